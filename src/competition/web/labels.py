"""Words for the codes the domains store (statuses, conflict types, flags), in both languages."""

from __future__ import annotations

from typing import Final

from competition.competitions.phases import PHASE_NAMES
from competition.web.i18n import N_, gettext

LABELS: Final[dict[str, dict[str, str]]] = {
    "entry": {
        "draft": N_("Entwurf"),
        "submitted": N_("Eingereicht"),
        "withdrawn": N_("Zurückgezogen"),
        "disqualified": N_("Ausgeschlossen"),
    },
    "attachment": {
        "pending": N_("Wird hochgeladen"),
        "uploaded": N_("Wird geprüft"),
        "verified": N_("Geprüft"),
        "rejected": N_("Abgelehnt"),
    },
    "sheet": {"open": N_("Offen"), "draft": N_("Entwurf"), "final": N_("Abgeschlossen")},
    "juror": {
        "invited": N_("Eingeladen"),
        "active": N_("Aktiv"),
        "declined": N_("Abgelehnt"),
        "removed": N_("Ausgeschieden"),
    },
    "run": {
        "queued": N_("Wartet"),
        "running": N_("Läuft"),
        "done": N_("Fertig"),
        "infeasible": N_("Nicht lösbar"),
        "failed": N_("Fehlgeschlagen"),
        "deployed": N_("Übernommen"),
    },
    "mail": {
        "queued": N_("Wartet"),
        "sending": N_("Wird gesendet"),
        "sent": N_("Gesendet"),
        "failed": N_("Fehlgeschlagen"),
    },
    "conflict": {
        "employee": N_("Angestellt"),
        "former_employee": N_("Früher angestellt"),
        "customer": N_("Kundenbeziehung"),
        "supplier": N_("Lieferbeziehung"),
        "competitor": N_("Wettbewerber"),
        "shareholder": N_("Beteiligung"),
        "advisor": N_("Beratend tätig"),
        "family": N_("Familiäre Beziehung"),
        "other": N_("Sonstiges"),
    },
    "flag": {
        "no_reviews": N_("keine Bewertung"),
        "few_reviews": N_("zu wenige Bewertungen"),
        "high_disagreement": N_("starke Uneinigkeit"),
        "outlier_juror": N_("auffällige Einzelbewertung"),
        "tie_unbroken": N_("Gleichstand nicht aufgelöst"),
    },
    "method": {"zscore": N_("z-Werte je Jurymitglied"), "raw": N_("Rohpunkte")},
    "role": {"owner": N_("Inhaber/in"), "member": N_("Mitglied")},
}


def label(kind: str, code: str, locale: str) -> str:
    if kind == "phase":
        names = PHASE_NAMES.get(code)
        return names.get(locale, names["de"]) if names else code
    text = LABELS.get(kind, {}).get(code)
    return gettext(locale, text) if text else code
