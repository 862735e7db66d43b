"""Public pages: open competitions with their deadlines, a competition, its published winners."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath
from litestar.response import Template

from competition.accounts import privacy_notice
from competition.competitions import service as competitions
from competition.competitions.overview import service as overview
from competition.errors import NotFound
from competition.results import service as results
from competition.web.rendering import UIDep


class PublicPages(Controller):
    include_in_schema = False

    @get("/")
    async def landing(self, ui: UIDep) -> Template:
        """Landing page: competitions open for entries first, then those under way, then results."""
        visible = [c for c in await overview.visible(ui.conn, ui.principal) if c.phase != "draft"]
        return await ui.render(
            "public/landing.html",
            open=[c for c in visible if c.submissions_open],
            running=[
                c
                for c in visible
                if not c.submissions_open and c.phase not in ("published", "archived")
            ],
            published=[c for c in visible if c.phase in ("published", "archived")],
        )

    @get("/wettbewerbe/{slug:str}")
    async def competition(self, slug: FromPath[str], ui: UIDep) -> Template:
        """A competition: description, fields, criteria with weights, deadlines."""
        row, organiser = await competitions.visible(ui.conn, ui.principal, slug)
        competition = await competitions.to_response(ui.conn, row, is_organiser=organiser)
        return await ui.render("public/competition.html", competition=competition)

    @get("/wettbewerbe/{slug:str}/sieger")
    async def winners(self, slug: FromPath[str], ui: UIDep) -> Template:
        """The published winners by category (public, no login)."""
        try:
            found = await results.public_winners(ui.conn, slug=slug)
        except NotFound:
            return await ui.render("public/no_winners.html", status_code=404, slug=slug)
        return await ui.render("public/winners.html", winners=found)

    @get("/datenschutz")
    async def privacy(self, ui: UIDep) -> Template:
        """The privacy notice that registration asks people to accept."""
        return await ui.render(
            "public/privacy.html",
            version=privacy_notice.VERSION,
            paragraphs=privacy_notice.TEXT.get(ui.locale, privacy_notice.TEXT["de"]).split("\n\n"),
        )
