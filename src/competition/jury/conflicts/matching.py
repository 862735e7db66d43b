"""Which company a juror means: named in free text (declarations, blind competitions), or
suggested by the juror's own e-mail domain (organisers' jury list, jurors' declaration form).

Pure and I/O-free, and free of wording. A name matches a company when both are equal after
normalisation: case, punctuation and spacing ignored, umlauts and their spellings (ä/ae, ß/ss)
and accents folded, and German legal forms dropped (GmbH, AG, mbH, e. K., e. V., KG, OHG, UG
(haftungsbeschränkt), SE, GbR, KGaA, & Co.), so "Erzgebirgische Energiesysteme" names
"Erzgebirgische Energiesysteme GmbH". A web address or an e-mail address (or just its domain)
names the company whose website, or one of whose members' e-mail addresses, has that domain.

Near misses are not matched; they are offered to organisers as candidates (ranked by the
similarity of the normalised names, difflib's Ratcliff/Obershelp ratio), who decide.

A suggestion is a company whose website's domain is the juror's e-mail domain (or a sub- or
parent domain of it), or one of whose members mails from that domain; addresses at public mail
providers say nothing about an employer and suggest nothing.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlsplit

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# Legal forms as token sequences after normalisation ("e. K." is "e k", "& Co." is "co").
_LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        (
            tuple(form.split())
            for form in (
                "gmbh",
                "mbh",
                "ag",
                "kg",
                "kgaa",
                "ohg",
                "ug",
                "se",
                "gbr",
                "co",
                "und co",
                "gmbh und co kg",
                "e k",
                "ek",
                "e kfm",
                "e kfr",
                "e v",
                "ev",
                "eg",
                "haftungsbeschraenkt",
                "ltd",
                "inc",
            )
        ),
        key=len,
        reverse=True,
    )
)
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
CANDIDATE_THRESHOLD = 0.6


def _tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower().translate(_FOLD).replace("&", " und "))
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", " ", plain).split()


def normalise_name(text: str) -> str:
    """The comparable form of a company name, without legal forms."""
    tokens = _tokens(text)
    kept: list[str] = []
    i = 0
    while i < len(tokens):
        for form in _LEGAL_FORMS:
            if kept and tuple(tokens[i : i + len(form)]) == form:
                i += len(form)
                break
        else:
            kept.append(tokens[i])
            i += 1
    return " ".join(kept)


def domain_of(text: str) -> str | None:
    """The domain a text names: a web address, an e-mail address, or a bare domain."""
    value = text.strip().lower()
    if "@" in value:
        value = value.rsplit("@", 1)[1]
    elif "://" in value or value.startswith("www."):
        value = urlsplit(value if "://" in value else f"https://{value}").hostname or ""
    value = value.removeprefix("www.").strip(".")
    return value if _DOMAIN.match(value) else None


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    name: str
    website: str | None
    member_domains: Sequence[str]


@dataclass(frozen=True, slots=True)
class Candidate:
    company_id: str
    name: str
    score: float  # 0..1, similarity of the normalised names; 1.0 for a matching domain


def matches(text: str, company: Company) -> bool:
    """Whether a juror's text names this company (see the module docstring)."""
    domain = domain_of(text)
    if domain is not None:
        own = {domain_of(company.website) if company.website else None}
        own |= {d.lower().removeprefix("www.") for d in company.member_domains}
        return domain in own
    name = normalise_name(text)
    return bool(name) and name == normalise_name(company.name)


def matching(text: str, companies: Iterable[Company]) -> list[str]:
    """The ids of every company the text names, in the given order."""
    return [c.id for c in companies if matches(text, c)]


def candidates(text: str, companies: Iterable[Company], *, limit: int = 5) -> list[Candidate]:
    """Companies an organiser may mean to link an unmatched declaration to, best first."""
    wanted = normalise_name(text)
    found: list[Candidate] = []
    for company in companies:
        if matches(text, company):
            score = 1.0
        else:
            score = difflib.SequenceMatcher(None, wanted, normalise_name(company.name)).ratio()
        if score >= CANDIDATE_THRESHOLD:
            found.append(Candidate(company.id, company.name, round(score, 3)))
    found.sort(key=lambda c: (-c.score, c.name))
    return found[:limit]


# Addresses at these providers say nothing about an employer.
PUBLIC_MAIL_DOMAINS: Final = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "web.de",
        "gmx.de",
        "gmx.net",
        "t-online.de",
        "outlook.com",
        "outlook.de",
        "hotmail.com",
        "hotmail.de",
        "yahoo.com",
        "yahoo.de",
        "icloud.com",
        "me.com",
        "posteo.de",
        "mailbox.org",
        "freenet.de",
        "arcor.de",
        "aol.com",
        "mail.de",
        "proton.me",
        "protonmail.com",
    }
)


@dataclass(frozen=True, slots=True)
class Suggestion:
    company_id: str
    company_name: str
    # "website": the company's web domain is (a sub- or parent domain of) the juror's e-mail
    # domain; "members": members of the company mail from the juror's domain.
    by: Literal["website", "members"]
    domain: str  # the juror's e-mail domain
    website: str | None  # the company's web domain, when that is what matched


def website_domain(value: str | None) -> str | None:
    """The host of a website as companies enter it (with or without scheme), without "www."."""
    if not value:
        return None
    host = urlsplit(value if "://" in value else f"https://{value}").hostname or ""
    host = host.lower().removeprefix("www.")
    return host or None


def suggestions(juror_email: str, companies: Iterable[Company]) -> list[Suggestion]:
    """Companies whose web or e-mail domain is the juror's own e-mail domain."""
    domain = juror_email.rsplit("@", 1)[-1].lower()
    if domain in PUBLIC_MAIL_DOMAINS:
        return []
    found = []
    for company in companies:
        site = website_domain(company.website)
        if site and (domain == site or domain.endswith("." + site) or site.endswith("." + domain)):
            found.append(Suggestion(company.id, company.name, "website", domain, site))
        elif domain in {d.lower() for d in company.member_domains}:
            found.append(Suggestion(company.id, company.name, "members", domain, None))
    return found
