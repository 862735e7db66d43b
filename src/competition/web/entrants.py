"""Entrant pages: my area, company profiles with members and invitations, the entry editor,
attachments, submission and withdrawal.

The editor never loses text: every refusal re-renders the form with what was typed; a stale
version (412) shows the stored version next to the person's own, whose text stays in the form
with the new version number, so saving again is a deliberate overwrite.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from competition.attachments import service as attachments
from competition.attachments.sniff import ALLOWED as ALLOWED_TYPES
from competition.auth import ServicesDep
from competition.companies import schemas as company_schemas
from competition.companies import service as companies
from competition.competitions import service as competitions
from competition.competitions.districts import NAMES as DISTRICTS
from competition.competitions.overview import service as overview
from competition.entries import schemas as entry_schemas
from competition.entries import service as entries
from competition.jury.overview import service as jury_overview
from competition.web import forms
from competition.web.rendering import UI, UIDep, safe_next

COMPANY_FIELDS = ("name", "street", "postal_code", "city", "district", "employees", "website")
ENTRY_FIELDS = ("category", "title", "summary", "description")


def _company_data(values: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {f: values.get(f, "").strip() for f in COMPANY_FIELDS}
    if not data["website"]:
        data["website"] = None
    return data


async def _company_page(
    ui: UI,
    company_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    problems: forms.Problems | None = None,
    member_problems: forms.Problems | None = None,
    stored: company_schemas.Company | None = None,
) -> Template:
    company, role = await companies.get(ui.conn, ui.user(), company_id)
    shown = values or {f: str(getattr(company, f) or "") for f in COMPANY_FIELDS}
    shown.setdefault("version", str(company.version))
    problems = problems or forms.Problems()
    member_problems = member_problems or forms.Problems()
    return await ui.render(
        "entrant/company.html",
        status_code=status_code,
        company=company,
        is_owner=role == "owner",
        districts=sorted(DISTRICTS.items(), key=lambda d: d[1]),
        values=shown,
        message=problems.message,
        errors=problems.fields,
        member_message=member_problems.message,
        member_errors=member_problems.fields,
        stored=stored,
    )


async def _editor(
    ui: UI,
    entry_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    problems: forms.Problems | None = None,
    stored: entry_schemas.Entry | None = None,
) -> Template:
    row, role = await entries.access(ui.conn, ui.user(), entry_id)
    entry = await entries.to_response(ui.conn, row)
    # An entry's competition is past its draft (entries start once submissions open).
    competition_row, _ = await competitions.visible(ui.conn, ui.user(), entry.competition_id)
    competition = await competitions.to_response(ui.conn, competition_row, is_organiser=False)
    shown = values or {f: str(getattr(entry, f)) for f in ENTRY_FIELDS}
    shown.setdefault("version", str(entry.version))
    problems = problems or forms.Problems()
    return await ui.render(
        "entrant/entry.html",
        status_code=status_code,
        entry=entry,
        competition=competition,
        can_edit=role == "member" and entry.editable,
        is_member=role == "member",
        values=shown,
        message=problems.message,
        errors=problems.fields,
        stored=stored,
        accept=",".join(ALLOWED_TYPES),
        usage=await attachments.usage(ui.conn, row.id) if role == "member" else None,
    )


class EntrantPages(Controller):
    include_in_schema = False

    @get("/mein-bereich")
    async def home(self, ui: UIDep) -> Template:
        """Everything of the signed-in person: entries, companies, jury work, organising."""
        user = ui.user()
        visible = await overview.visible(ui.conn, user)
        return await ui.render(
            "entrant/home.html",
            companies=await companies.mine(ui.conn, user),
            entries=await entries.mine(ui.conn, user),
            titles={c.id: c.title for c in visible},
            open_competitions=[c for c in visible if c.submissions_open],
            jury=await jury_overview.memberships(ui.conn, user),
            organised=await overview.organised(ui.conn, user),
            invitations=await companies.my_invitations(ui.conn, user),
        )

    # Companies ---------------------------------------------------------------------------------

    @get("/unternehmen/neu")
    async def new_company_form(self, ui: UIDep, next: FromQuery[str] = "") -> Template:
        """Form for a new company profile."""
        ui.user()
        return await ui.render(
            "entrant/company_new.html",
            districts=sorted(DISTRICTS.items(), key=lambda d: d[1]),
            values={"next": safe_next(next) or ""},
        )

    @post("/unternehmen/neu")
    async def create_company(self, ui: UIDep) -> Response[Any]:
        """Create the company profile; the person becomes its owner."""
        user = ui.user()
        values = forms.values(await ui.request.form())
        data, errors = forms.convert(
            company_schemas.CompanyCreate, _company_data(values), ui.locale
        )
        return await forms.answer(
            ui.locale,
            companies.create(ui.conn, user, data) if data is not None else None,
            fields=errors,
            done=lambda company: ui.redirect(
                safe_next(values.get("next")) or f"/unternehmen/{company.id}",
                notice="company_created",
            ),
            again=lambda problems, _: ui.render(
                "entrant/company_new.html",
                status_code=422,
                districts=sorted(DISTRICTS.items(), key=lambda d: d[1]),
                values=values,
                message=problems.message,
                errors=problems.fields,
            ),
        )

    @get("/unternehmen/{company_id:uuid}")
    async def company(self, company_id: FromPath[uuid.UUID], ui: UIDep) -> Template:
        """The company profile with its members (members only)."""
        return await _company_page(ui, company_id)

    @post("/unternehmen/{company_id:uuid}")
    async def update_company(self, company_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Save the profile; a stale version shows what is stored now."""
        user = ui.user()
        values = forms.values(await ui.request.form())
        data, errors = forms.convert(
            company_schemas.CompanyUpdate, _company_data(values), ui.locale
        )

        async def stale(problems: forms.Problems) -> Template:
            stored, _ = await companies.get(ui.conn, user, company_id)
            values["version"] = str(stored.version)
            return await _company_page(
                ui, company_id, status_code=412, values=values, problems=problems, stored=stored
            )

        return await forms.answer(
            ui.locale,
            companies.update(ui.conn, user, company_id, data, if_match=forms.version(values))
            if data is not None
            else None,
            fields=errors,
            done=lambda _: ui.redirect(f"/unternehmen/{company_id}", notice="company_saved"),
            again=lambda problems, status: _company_page(
                ui, company_id, status_code=status, values=values, problems=problems
            ),
            stale=stale,
        )

    @post("/unternehmen/{company_id:uuid}/mitglieder")
    async def add_member(
        self, company_id: FromPath[uuid.UUID], ui: UIDep, services: ServicesDep
    ) -> Response[Any]:
        """Invite a person by e-mail (owner); they become a member when they accept."""
        user = ui.user()
        email = forms.values(await ui.request.form()).get("member_email", "").strip()
        data, errors = forms.convert(company_schemas.MemberAdd, {"email": email}, ui.locale)
        return await forms.answer(
            ui.locale,
            companies.add_member(
                ui.conn,
                user,
                company_id,
                email=data.email,
                redis=services.redis,
                settings=services.settings,
            )
            if data is not None
            else None,
            fields={"member_" + k: v for k, v in errors.items()},
            done=lambda _: ui.redirect(f"/unternehmen/{company_id}", notice="member_invited"),
            again=lambda problems, status: _company_page(
                ui, company_id, status_code=status, member_problems=problems
            ),
        )

    @get("/unternehmen/einladung")
    async def invitation(
        self, ui: UIDep, services: ServicesDep, token: FromQuery[str] = ""
    ) -> Response[Any]:
        """The invitation a mail's link names, with its answers (for the invited address)."""
        return await forms.answer(
            ui.locale,
            companies.invitation_from_link(ui.conn, services.settings, ui.user(), token),
            done=lambda invitation: ui.render(
                "entrant/company_invitation.html", invitation=invitation
            ),
            again=lambda problems, status: ui.render(
                "accounts/link_invalid.html", status_code=status, message=problems.message
            ),
        )

    @post("/unternehmen/einladungen/{invitation_id:uuid}/annehmen")
    async def accept_invitation(
        self, invitation_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Response[Any]:
        """Accept an invitation to one's own address: one becomes a member."""
        company = await companies.answer_invitation(ui.conn, ui.user(), invitation_id, accept=True)
        return ui.redirect(f"/unternehmen/{company.id}", notice="invitation_joined")

    @post("/unternehmen/einladungen/{invitation_id:uuid}/ablehnen")
    async def decline_invitation(
        self, invitation_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Response[Any]:
        """Decline an invitation to one's own address."""
        await companies.answer_invitation(ui.conn, ui.user(), invitation_id, accept=False)
        return ui.redirect("/mein-bereich", notice="invitation_declined")

    # Entries -----------------------------------------------------------------------------------

    @get("/wettbewerbe/{slug:str}/teilnehmen")
    async def new_entry_form(self, slug: FromPath[str], ui: UIDep) -> Template:
        """Start an entry: company, category, title, summary."""
        user = ui.user()
        row, _ = await competitions.visible(ui.conn, user, slug)
        competition = await competitions.to_response(ui.conn, row, is_organiser=False)
        mine = await companies.mine(ui.conn, user)
        values = {"company_id": str(mine[0].id)} if len(mine) == 1 else {}
        return await ui.render(
            "entrant/entry_new.html", competition=competition, companies=mine, values=values
        )

    @post("/wettbewerbe/{slug:str}/teilnehmen")
    async def create_entry(self, slug: FromPath[str], ui: UIDep) -> Response[Any]:
        """Create the draft; the editor opens."""
        user = ui.user()
        row, _ = await competitions.visible(ui.conn, user, slug)
        values = forms.values(await ui.request.form())
        data, errors = forms.convert(
            entry_schemas.EntryCreate,
            {k: values.get(k, "") for k in ("company_id", *ENTRY_FIELDS)},
            ui.locale,
        )

        # Another company's id is the service's 404, not bad input: the status is the refusal's.
        async def again(problems: forms.Problems, status: int) -> Template:
            return await ui.render(
                "entrant/entry_new.html",
                status_code=status,
                competition=await competitions.to_response(ui.conn, row, is_organiser=False),
                companies=await companies.mine(ui.conn, user),
                values=values,
                message=problems.message,
                errors=problems.fields,
            )

        return await forms.answer(
            ui.locale,
            entries.create(ui.conn, user, row.id, data) if data is not None else None,
            fields=errors,
            done=lambda entry_id: ui.redirect(f"/entries/{entry_id}", notice="entry_created"),
            again=again,
        )

    @get("/entries/{entry_id:uuid}")
    async def entry(self, entry_id: FromPath[uuid.UUID], ui: UIDep) -> Template:
        """The entry editor (members) or the entry as organisers see it."""
        return await _editor(ui, entry_id)

    @post("/entries/{entry_id:uuid}")
    async def save_entry(self, entry_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Save the draft with the version it was loaded at."""
        user = ui.user()
        values = forms.values(await ui.request.form())
        data, errors = forms.convert(
            entry_schemas.EntryUpdate, {k: values.get(k, "") for k in ENTRY_FIELDS}, ui.locale
        )

        async def stale(problems: forms.Problems) -> Template:
            row, _ = await entries.access(ui.conn, user, entry_id)
            stored = await entries.to_response(ui.conn, row)
            values["version"] = str(stored.version)
            return await _editor(
                ui, entry_id, status_code=412, values=values, problems=problems, stored=stored
            )

        return await forms.answer(
            ui.locale,
            entries.update(ui.conn, user, entry_id, data, if_match=forms.version(values))
            if data is not None
            else None,
            fields=errors,
            done=lambda _: ui.redirect(f"/entries/{entry_id}", notice="entry_saved"),
            again=lambda problems, status: _editor(
                ui, entry_id, status_code=status, values=values, problems=problems
            ),
            stale=stale,
        )

    @get("/entries/{entry_id:uuid}/einreichen")
    async def submit_form(self, entry_id: FromPath[uuid.UUID], ui: UIDep) -> Template:
        """What will be submitted, and the button that does it."""
        row, _ = await entries.access(ui.conn, ui.user(), entry_id)
        return await ui.render("entrant/submit.html", entry=await entries.to_response(ui.conn, row))

    @post("/entries/{entry_id:uuid}/einreichen")
    async def submit(self, entry_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Submit; every member of the company receives a confirmation mail."""
        user = ui.user()

        async def submit() -> None:
            # A savepoint: a refused submission keeps nothing it began (the eligibility it
            # found), as the API's rolled-back transaction does; this page answers instead.
            async with ui.conn.transaction():
                await entries.submit(ui.conn, user, entry_id)

        async def again(problems: forms.Problems, status: int) -> Template:
            row, _ = await entries.access(ui.conn, user, entry_id)
            return await ui.render(
                "entrant/submit.html",
                status_code=status,
                entry=await entries.to_response(ui.conn, row),
                message=problems.message,
            )

        return await forms.answer(
            ui.locale,
            submit(),
            done=lambda _: ui.redirect(f"/entries/{entry_id}", notice="entry_submitted"),
            again=again,
        )

    @get("/entries/{entry_id:uuid}/zurueckziehen")
    async def withdraw_form(self, entry_id: FromPath[uuid.UUID], ui: UIDep) -> Template:
        """Confirmation before withdrawing; after the deadline with the reason."""
        row, _ = await entries.access(ui.conn, ui.user(), entry_id)
        return await ui.render(
            "entrant/withdraw.html",
            entry=await entries.to_response(ui.conn, row),
            late=not row.submissions_open,
            values={},
        )

    @post("/entries/{entry_id:uuid}/zurueckziehen")
    async def withdraw(self, entry_id: FromPath[uuid.UUID], ui: UIDep) -> Response[Any]:
        """Withdraw the entry (it can be submitted again before the deadline; after it, only
        with a reason, which the organisers read in the audit log)."""
        user = ui.user()
        values = forms.values(await ui.request.form())
        reason = values.get("reason", "")
        data, errors = forms.convert(
            entry_schemas.Withdrawal, {"reason": reason} if reason.strip() else {}, ui.locale
        )

        async def again(problems: forms.Problems, status: int) -> Template:
            row, _ = await entries.access(ui.conn, user, entry_id)
            return await ui.render(
                "entrant/withdraw.html",
                status_code=status,
                entry=await entries.to_response(ui.conn, row),
                late=not row.submissions_open,
                values=values,
                message=problems.message,
                errors=problems.fields,
            )

        return await forms.answer(
            ui.locale,
            entries.withdraw(ui.conn, user, entry_id, reason=data.reason)
            if data is not None
            else None,
            fields=errors,
            done=lambda _: ui.redirect(f"/entries/{entry_id}", notice="entry_withdrawn"),
            again=again,
        )

    # Attachments -------------------------------------------------------------------------------

    @post("/anhaenge/{attachment_id:uuid}/loeschen")
    async def delete_attachment(
        self, attachment_id: FromPath[uuid.UUID], ui: UIDep
    ) -> Response[Any]:
        """Delete an attachment while the entry is editable."""
        user = ui.user()
        attachment, entry, _ = await attachments.access(ui.conn, user, attachment_id)
        return await forms.answer(
            ui.locale,
            attachments.delete(ui.conn, user, attachment_id),
            done=lambda _: ui.redirect(
                f"/entries/{attachment.entry_id}", notice="attachment_deleted"
            ),
            again=lambda problems, status: _editor(
                ui, entry.id, status_code=status, problems=problems
            ),
        )

    @get("/anhaenge/{attachment_id:uuid}")
    async def open_attachment(
        self, attachment_id: FromPath[uuid.UUID], ui: UIDep, services: ServicesDep
    ) -> Redirect:
        """Open an attachment: a short-lived link straight to the object store."""
        link = await attachments.download(ui.conn, services.storage, ui.user(), attachment_id)
        return Redirect(path=link.url, status_code=303)
