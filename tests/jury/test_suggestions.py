"""Suggested conflicts: a juror's e-mail domain against companies' websites and members."""

from __future__ import annotations

import uuid

from competition.jury.service import suggestions

A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))
COMPANIES = [
    (A, "Muster GmbH", "https://www.muster-gmbh.example/produkte", ["muster-gmbh.example"]),
    (B, "Beispiel AG", None, ["beispiel.example", "gmail.com"]),
    (C, "Andere KG", "https://andere.example", []),
]


def test_suggestions_match_website_and_member_domains() -> None:
    found = suggestions("dr.meier@muster-gmbh.example", COMPANIES)
    assert [(s.company_id, s.reason) for s in found] == [
        (A, "E-Mail-Domain muster-gmbh.example entspricht der Website muster-gmbh.example."),
    ]
    found = suggestions("k.klein@beispiel.example", COMPANIES)
    assert [(s.company_id, s.reason) for s in found] == [
        (B, "Mitglieder des Unternehmens nutzen die E-Mail-Domain beispiel.example."),
    ]


def test_suggestions_ignore_public_mail_providers() -> None:
    assert suggestions("privat@gmail.com", COMPANIES) == []


def test_suggestions_match_subdomains_of_the_website() -> None:
    found = suggestions("x@werk.andere.example", COMPANIES)
    assert [s.company_id for s in found] == [C]
