"""The tolerant matching of company names typed by jurors (pure, no services)."""

from __future__ import annotations

from competition.jury.conflicts.matching import (
    Candidate,
    Company,
    candidates,
    domain_of,
    matching,
    normalise_name,
)

EES = Company(
    "1", "Erzgebirgische Energiesysteme GmbH", "https://www.ees-erzgebirge.de", ["ees.de"]
)
MUELLER = Company("2", "Müller & Söhne Präzisionsteile GmbH & Co. KG", None, [])
WEISS = Company("3", "Weiß Logistik e. K.", "weiss-logistik.de", [])
AG = Company("4", "Vogtland Textil AG", None, ["vogtland-textil.com"])
ALL = [EES, MUELLER, WEISS, AG]


def test_names_match_whatever_the_legal_form_case_punctuation_and_spelling() -> None:
    cases = {
        "Erzgebirgische Energiesysteme": ["1"],
        "erzgebirgische energiesysteme gmbh": ["1"],
        "Erzgebirgische  Energie-Systeme": [],  # a different word is a near miss, not a match
        "Mueller und Soehne Praezisionsteile": ["2"],
        "MÜLLER & SÖHNE PRÄZISIONSTEILE KG": ["2"],
        "Müller & Söhne Präzisionsteile GmbH & Co. KG": ["2"],
        "Weiss Logistik": ["3"],
        "Weiß Logistik eK": ["3"],
        "Vogtland Textil": ["4"],
        "Vogtland-Textil AG": ["4"],
        "Vogtland Textil SE": ["4"],
        "Textil": [],
        "GmbH": [],
    }
    assert {text: matching(text, ALL) for text in cases} == cases


def test_web_and_mail_domains_name_their_company() -> None:
    cases = {
        "ees-erzgebirge.de": ["1"],
        "https://www.ees-erzgebirge.de/kontakt": ["1"],
        "www.EES-Erzgebirge.de": ["1"],
        "jana.meier@ees.de": ["1"],
        "@ees.de": ["1"],
        "weiss-logistik.de": ["3"],
        "info@vogtland-textil.com": ["4"],
        "gmail.com": [],
        "ees-erzgebirge.com": [],
    }
    assert {text: matching(text, ALL) for text in cases} == cases


def test_normal_forms_and_domains() -> None:
    assert normalise_name("  Müller & Söhne GmbH & Co. KG ") == "mueller und soehne"
    assert normalise_name("Café Zwickau UG (haftungsbeschränkt)") == "cafe zwickau"
    assert normalise_name("AG Bau") == "ag bau"  # a legal form only at the end
    assert [domain_of(t) for t in ("a@b.de", "https://x.example/y", "kein name", "a.b")] == [
        "b.de",
        "x.example",
        None,
        None,
    ]


def test_candidates_for_organisers_rank_near_misses() -> None:
    assert candidates("Erzgebirgische Energie-Systeme", ALL) == [
        Candidate("1", "Erzgebirgische Energiesysteme GmbH", 0.983)
    ]
    assert candidates("Vogtland Textilien", ALL) == [Candidate("4", "Vogtland Textil AG", 0.909)]
    assert candidates("ees.de", ALL) == [Candidate("1", "Erzgebirgische Energiesysteme GmbH", 1.0)]
    assert candidates("Sächsische Werkzeugbau", ALL) == []
