"""Words for the codes the domains store (statuses, conflict types, flags), in both languages."""

from __future__ import annotations

import re
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
        "deleted": N_("Gelöscht"),
        "expired": N_("Abgelaufen"),
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
    # Why an assignment was voided, and the conflict membership of a company is (jury.schemas).
    "void": {"member": N_("Mitglied des Unternehmens")},
    "flag": {
        "no_reviews": N_("keine Bewertung"),
        "few_reviews": N_("zu wenige Bewertungen"),
        "high_disagreement": N_("starke Uneinigkeit"),
        "outlier_juror": N_("auffällige Einzelbewertung"),
        "tie_unbroken": N_("Gleichstand nicht aufgelöst"),
        "sheets_excluded": N_("Bewertung wegen Interessenkonflikt nicht gezählt"),
    },
    # Why a sheet did not count, beside the conflict types above.
    "exclusion": {"member": N_("Mitglied des Unternehmens")},
    "method": {"zscore": N_("z-Werte je Jurymitglied"), "raw": N_("Rohpunkte")},
    "role": {"owner": N_("Inhaber/in"), "member": N_("Mitglied")},
}


def label(kind: str, code: str, locale: str) -> str:
    if kind == "phase":
        names = PHASE_NAMES.get(code)
        return names.get(locale, names["de"]) if names else code
    text = LABELS.get(kind, {}).get(code)
    return gettext(locale, text) if text else code


# Names of form fields in the error summary at the top of a form, by the field's key.
FIELDS: Final[dict[str, str]] = {
    "name": N_("Name"),
    "email": N_("E-Mail-Adresse"),
    "member_email": N_("E-Mail-Adresse"),
    "password": N_("Passwort"),
    "password_repeat": N_("Passwort wiederholen"),
    "accept_privacy": N_("Datenschutz"),
    "street": N_("Straße und Hausnummer"),
    "postal_code": N_("Postleitzahl"),
    "city": N_("Ort"),
    "district": N_("Landkreis / Kreisfreie Stadt"),
    "employees": N_("Beschäftigte"),
    "website": N_("Website"),
    "company_id": N_("Unternehmen"),
    "category": N_("Kategorie"),
    "title": N_("Titel"),
    "summary": N_("Kurzfassung"),
    "description": N_("Beschreibung"),
    "slug": N_("Kurzbezeichnung für Adressen"),
    "title.de": N_("Titel (Deutsch)"),
    "title.en": N_("Titel (Englisch, optional)"),
    "description.de": N_("Beschreibung (Deutsch)"),
    "description.en": N_("Beschreibung (Englisch, optional)"),
    "submission_opens_at": N_("Einreichung ab"),
    "submission_closes_at": N_("Einsendeschluss"),
    "reviews_per_entry": N_("Gutachten je Beitrag"),
    "tie_break": N_("Regeln bei Gleichstand (in dieser Reihenfolge)"),
    "eligible_districts": N_("Teilnahmegebiet"),
    "categories": N_("Kategorien"),
    "criteria": N_("Kriterien"),
    "expertise": N_("Fachgebiete"),
    "max_load": N_("Höchstzahl an Beiträgen (optional)"),
    "seed": N_("Startwert"),
    "juror_id": N_("Jurymitglied"),
    "type": N_("Art der Verbindung"),
    "note": N_("Anmerkung"),
    "comment": N_("Kommentar"),
    "confirm_final": N_("Abschließen"),
}
_ROW_FIELDS: Final[dict[str, str]] = {
    "slug": N_("Kürzel"),
    "key": N_("Schlüssel"),
    "name.de": N_("Name (Deutsch)"),
    "name.en": N_("Name (Englisch)"),
    "weight": N_("Gewicht"),
    "min": N_("Minimum"),
    "max": N_("Maximum"),
}
_ROW: Final = re.compile(r"^(categories|criteria)\[(\d+)\]\.(.+)$")


def field_label(key: str, locale: str, given: dict[str, str] | None = None) -> str:
    """The field behind an error key ("criteria[1].weight" → "Kriterium 2: Gewicht")."""
    if given and key in given:
        return given[key]
    if key in FIELDS:
        return gettext(locale, FIELDS[key])
    if row := _ROW.match(key):
        table, position, field = row.groups()
        template = N_("Kategorie %(n)s") if table == "categories" else N_("Kriterium %(n)s")
        part = _ROW_FIELDS.get(field)
        title = gettext(locale, template) % {"n": int(position) + 1}
        return f"{title}: {gettext(locale, part)}" if part else title
    return gettext(locale, N_("Eingabe"))
