"""Suggested conflicts: a juror's e-mail domain against companies' websites and members; the
matching says what matched, the service says it in words (German for the API, or the language a
page asks for)."""

from __future__ import annotations

import uuid

from competition.jury.conflicts.matching import Company, Suggestion, suggestions
from competition.jury.conflicts.service import suggested

A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))
COMPANIES = [
    Company(
        str(A), "Muster GmbH", "https://www.muster-gmbh.example/produkte", ["muster-gmbh.example"]
    ),
    Company(str(B), "Beispiel AG", None, ["beispiel.example", "gmail.com"]),
    Company(str(C), "Andere KG", "https://andere.example", []),
]


def test_suggestions_match_website_and_member_domains() -> None:
    found = suggested("dr.meier@muster-gmbh.example", COMPANIES)
    assert [(s.company_id, s.reason) for s in found] == [
        (A, "E-Mail-Domain muster-gmbh.example entspricht der Website muster-gmbh.example."),
    ]
    found = suggested("k.klein@beispiel.example", COMPANIES)
    assert [(s.company_id, s.reason) for s in found] == [
        (B, "Mitglieder des Unternehmens nutzen die E-Mail-Domain beispiel.example."),
    ]


def test_suggestions_give_their_reason_in_the_language_asked_for() -> None:
    found = suggested("dr.meier@muster-gmbh.example", COMPANIES, "en")
    assert [(s.company_id, s.reason) for s in found] == [
        (A, "The e-mail domain muster-gmbh.example matches the website muster-gmbh.example."),
    ]
    found = suggested("k.klein@beispiel.example", COMPANIES, "en")
    assert [(s.company_id, s.reason) for s in found] == [
        (B, "Members of the company use the e-mail domain beispiel.example."),
    ]


def test_suggestions_say_what_matched_without_words() -> None:
    assert suggestions("dr.meier@muster-gmbh.example", COMPANIES) == [
        Suggestion(str(A), "Muster GmbH", "website", "muster-gmbh.example", "muster-gmbh.example")
    ]
    assert suggestions("k.klein@beispiel.example", COMPANIES) == [
        Suggestion(str(B), "Beispiel AG", "members", "beispiel.example", None)
    ]


def test_suggestions_ignore_public_mail_providers() -> None:
    assert suggested("privat@gmail.com", COMPANIES) == []


def test_suggestions_match_subdomains_of_the_website() -> None:
    found = suggested("x@werk.andere.example", COMPANIES)
    assert [s.company_id for s in found] == [C]
