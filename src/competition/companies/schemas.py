"""Request and response bodies of the company endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from competition.competitions.districts import KEY_PATTERN
from competition.structs import Request, Response

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
PostalCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{5}$", description="German postal code")]
District = Annotated[str, msgspec.Meta(pattern=KEY_PATTERN, max_length=63)]
Website = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/$.?#].[^\s]*$", max_length=300)]
Employees = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]


class CompanyCreate(Request):
    name: Text
    street: Text
    postal_code: PostalCode
    city: Text
    district: District
    employees: Employees
    website: Website | None = None


class CompanyUpdate(Request):
    name: Text | None = None
    street: Text | None = None
    postal_code: PostalCode | None = None
    city: Text | None = None
    district: District | None = None
    employees: Employees | None = None
    website: Website | None = None


class Member(Response):
    account_id: uuid.UUID
    email: str
    name: str
    role: Literal["owner", "member"]


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
    email: Annotated[
        str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    ]


class MemberAdded(Response):
    email: str
    status: Literal["added", "invited"]
    member: Member | None = None
