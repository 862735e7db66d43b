"""The privacy notice shown at registration and at jury acceptance. Changing its text means a new
version: accounts record which version they accepted (so it lives with the accounts that record it;
the privacy domain serves it)."""

from __future__ import annotations

from typing import Final

VERSION: Final = "2026-11"

TEXT: Final[dict[str, str]] = {
    "de": (
        "Datenschutzhinweise für den Wettbewerb „Industrie. Neu. Denken.“\n\n"
        "Verantwortlich: die Geschäftsstelle des Masterplans Südwestsachsen. Wir verarbeiten Ihre "
        "Kontodaten (Name, E-Mail-Adresse, Sprache), die Angaben Ihres Unternehmens und Ihre "
        "Wettbewerbsbeiträge mit Anhängen ausschließlich zur Durchführung des Wettbewerbs "
        "(Art. 6 Abs. 1 lit. b DSGVO). Beiträge sehen nur die Mitglieder Ihres Unternehmens, die "
        "Organisation und die zugeteilten Jurymitglieder; Jurymitglieder verpflichten sich zur "
        "Vertraulichkeit und sehen keine Beiträge von Unternehmen, mit denen sie in einem "
        "Interessenkonflikt stehen. Veröffentlicht werden nur die Sieger (Unternehmen, Titel, "
        "Kurzfassung).\n\n"
        "Ihre Rechte: Auskunft (Datenexport im Konto), Berichtigung, Löschung (Konto löschen: "
        "personenbezogene Daten werden anonymisiert, die Wettbewerbsunterlagen bleiben ohne "
        "Personenbezug erhalten), Einschränkung, Widerspruch und Beschwerde bei der Sächsischen "
        "Datenschutz- und Transparenzbeauftragten.\n\n"
        "Speicherdauer: Inhalte versandter E-Mails werden nach 180 Tagen gelöscht, nie bestätigte "
        "Konten nach 30 Tagen; Wettbewerbsunterlagen bis zum Abschluss der Förderdokumentation."
    ),
    "en": (
        'Privacy notice for the competition "Industrie. Neu. Denken."\n\n'
        "Controller: the office of the Masterplan Südwestsachsen. We process your account data "
        "(name, e-mail address, language), your company's details and your entries with their "
        "attachments solely to run the competition (Art. 6(1)(b) GDPR). Entries are seen only by "
        "your company's members, the organisers and the assigned jurors; jurors commit to "
        "confidentiality and never see entries of companies they have a conflict of interest "
        "with. Only the winners (company, title, summary) are published.\n\n"
        "Your rights: access (data export in your account), rectification, erasure (deleting the "
        "account anonymises personal data; competition records stay without personal "
        "reference), restriction, objection, and complaint to the Saxon data protection "
        "authority.\n\n"
        "Retention: contents of sent e-mails are deleted after 180 days, never confirmed "
        "accounts after 30 days; competition records until the funding documentation is closed."
    ),
}
