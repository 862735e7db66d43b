"""The competition life cycle as data: which phase may follow which, and what each allows.

draft → open → closed → judging → deliberation → published → archived, with two ways back that
organisers need in practice: closed → open (deadline extended) and deliberation → judging (more
scores needed). `published` is reached only through publishing (results), never directly.
"""

from __future__ import annotations

from typing import Final

PHASES: Final = ("draft", "open", "closed", "judging", "deliberation", "published", "archived")

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "draft": frozenset({"open"}),
    "open": frozenset({"closed"}),
    "closed": frozenset({"open", "judging"}),
    "judging": frozenset({"deliberation"}),
    "deliberation": frozenset({"judging", "published"}),
    "published": frozenset({"archived"}),
    "archived": frozenset(),
}

# Phases in which anyone may see the competition; drafts are seen by their organisers only.
PUBLIC_PHASES: Final = frozenset(PHASES) - {"draft"}
# Phases in which jurors may open the entries assigned to them: from the submission deadline on.
JURY_PHASES: Final = frozenset({"closed", "judging", "deliberation", "published", "archived"})

PHASE_NAMES: Final[dict[str, dict[str, str]]] = {
    "draft": {"de": "Entwurf", "en": "draft"},
    "open": {"de": "Einreichung offen", "en": "open for entries"},
    "closed": {"de": "Einreichung geschlossen", "en": "closed"},
    "judging": {"de": "Jurybewertung", "en": "judging"},
    "deliberation": {"de": "Beratung", "en": "deliberation"},
    "published": {"de": "Ergebnisse veröffentlicht", "en": "results published"},
    "archived": {"de": "archiviert", "en": "archived"},
}


def allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())
