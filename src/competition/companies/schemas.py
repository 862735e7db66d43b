"""Request and response bodies of the company endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from competition.competitions.districts import KEY_PATTERN
from competition.structs import Request, Response
from competition.text import END, Email, Line
from competition.vocabulary import CompanyRole

Short = Annotated[Line, msgspec.Meta(min_length=1, max_length=200)]
PostalCode = Annotated[
    str, msgspec.Meta(pattern=r"^[0-9]{5}" + END, description="German postal code")
]
District = Annotated[str, msgspec.Meta(pattern=KEY_PATTERN, max_length=63)]
Website = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^https?://[^\s/$.?#\x00-\x1f\x7f][^\s\x00-\x1f\x7f]+" + END, max_length=300
    ),
]
Employees = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


class CompanyCreate(Request):
    name: Short
    street: Short
    postal_code: PostalCode
    city: Short
    district: District
    employees: Employees
    website: Website | None = None


class CompanyUpdate(Request):
    name: Short | None = None
    street: Short | None = None
    postal_code: PostalCode | None = None
    city: Short | None = None
    district: District | None = None
    employees: Employees | None = None
    website: Website | None = None


class Member(Response):
    account_id: uuid.UUID
    email: str
    name: str
    role: CompanyRole


class Invitation(Response):
    email: str


class Company(Response):
    id: uuid.UUID
    name: str
    street: str
    postal_code: str
    city: str
    district: str
    district_name: str
    employees: int
    website: str | None
    version: int
    members: list[Member]
    invitations: list[Invitation]


class MemberAdd(Request):
    email: Email


class MemberAdded(Response):
    """The same answer for every address: whether it has an account is nobody's business but
    its owner's, who decides whether to join."""

    email: str
    status: Literal["invited"]


class CompanyInvitation(Response):
    """An open invitation, as the invited person sees it."""

    id: uuid.UUID
    company_id: uuid.UUID
    company_name: str
    invited_by: str | None
    invited_at: datetime
    expires_at: datetime
