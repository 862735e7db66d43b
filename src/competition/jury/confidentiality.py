"""The confidentiality agreement jurors accept with their invitation, before any entry is shown.
A changed text is a new version; each juror record keeps the version accepted."""

from __future__ import annotations

from typing import Final

VERSION: Final = "2026-11"

TEXT: Final[dict[str, str]] = {
    "de": (
        "Ich behandle alle Beiträge, Anhänge, Bewertungen und Beratungen dieses Wettbewerbs "
        "vertraulich: Ich gebe nichts davon weiter, nutze es nicht für eigene oder fremde Zwecke "
        "und speichere Anhänge nur, solange ich sie für die Bewertung brauche. Ich gebe "
        "Interessenkonflikte vollständig an und melde neue sofort. Die Pflicht gilt über das "
        "Ende des Wettbewerbs hinaus."
    ),
    "en": (
        "I treat all entries, attachments, scores and deliberations of this competition as "
        "confidential: I pass nothing on, use nothing for my own or others' purposes, and keep "
        "attachments only as long as I need them for the review. I declare conflicts of interest "
        "completely and report new ones at once. This duty continues after the competition ends."
    ),
}
