"""Rendering pages: the Jinja2 environment, the per-request `UI` helper, redirects with a notice.

Every page is rendered through `UI.render`, which adds what the layout needs (language, the
signed-in person and their roles, the CSRF token for forms, a one-time notice) and remembers a
language chosen with `?lang=` in a cookie.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlencode

import asyncpg
import jinja2
from litestar import Request
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig

from competition.accounts import sessions
from competition.auth import Conn, Principal, PrincipalDep
from competition.jury.overview import service as jury_overview
from competition.web import i18n
from competition.web.i18n import N_
from competition.web.labels import field_label, label

TEMPLATE_DIR: Final = Path(__file__).resolve().parent / "templates"
NOTICE_COOKIE: Final = "ind_notice"
YEAR_SECONDS: Final = 365 * 24 * 3600

# One-time notices after a redirect, by key: the cookie carries the key, never text. The keys
# are a type, so that mypy checks every redirect's notice (tests/web: the same set both ways).
Notice = Literal[
    "registered",
    "verified",
    "logged_in",
    "logged_out",
    "reset_requested",
    "password_changed",
    "company_created",
    "company_saved",
    "member_invited",
    "invitation_joined",
    "invitation_declined",
    "entry_created",
    "entry_saved",
    "entry_submitted",
    "entry_withdrawn",
    "attachment_deleted",
    "invitation_accepted",
    "invitation_accepted_login",
    "conflicts_saved",
    "sheet_saved",
    "sheet_final",
    "competition_created",
    "competition_saved",
    "phase_changed",
    "juror_invited",
    "juror_removed",
    "conflict_recorded",
    "conflict_removed",
    "declaration_decided",
    "recused",
    "reminders_sent",
    "run_started",
    "run_deployed",
    "winners_saved",
    "published",
]
NOTICES: Final[dict[Notice, str]] = {
    "registered": N_(
        "Fast geschafft: Wir haben Ihnen eine E-Mail mit einem Bestätigungslink geschickt."
    ),
    "verified": N_("Ihre E-Mail-Adresse ist bestätigt. Sie können sich jetzt anmelden."),
    "logged_in": N_("Sie sind angemeldet."),
    "logged_out": N_("Sie sind abgemeldet."),
    "reset_requested": N_(
        "Wenn die Adresse registriert ist, erhalten Sie in Kürze eine E-Mail mit einem Link."
    ),
    "password_changed": N_("Ihr Passwort ist geändert. Bitte melden Sie sich neu an."),
    "company_created": N_("Das Unternehmensprofil ist angelegt."),
    "company_saved": N_("Das Unternehmensprofil ist gespeichert."),
    "member_invited": N_(
        "Die Einladung ist unterwegs. Die Person gehört zum Unternehmen, sobald sie zusagt."
    ),
    "invitation_joined": N_("Willkommen: Sie gehören jetzt zu diesem Unternehmen."),
    "invitation_declined": N_("Sie haben die Einladung abgelehnt."),
    "entry_created": N_("Der Entwurf ist angelegt. Sie können ihn jederzeit weiter bearbeiten."),
    "entry_saved": N_("Der Entwurf ist gespeichert."),
    "entry_submitted": N_(
        "Ihr Beitrag ist eingereicht. Sie erhalten eine Eingangsbestätigung per E-Mail."
    ),
    "entry_withdrawn": N_("Ihr Beitrag ist zurückgezogen."),
    "attachment_deleted": N_("Der Anhang ist gelöscht."),
    "invitation_accepted": N_("Willkommen in der Jury! Bitte geben Sie zuerst Ihre Konflikte an."),
    "invitation_accepted_login": N_(
        "Die Einladung ist angenommen. Bitte melden Sie sich mit Ihrem Konto an."
    ),
    "conflicts_saved": N_("Ihre Angaben zu Interessenkonflikten sind gespeichert."),
    "sheet_saved": N_("Der Bewertungsbogen ist als Entwurf gespeichert."),
    "sheet_final": N_("Der Bewertungsbogen ist abgeschlossen."),
    "competition_created": N_("Der Wettbewerb ist angelegt (Phase: Entwurf)."),
    "competition_saved": N_("Der Wettbewerb ist gespeichert."),
    "phase_changed": N_("Die Phase ist gewechselt."),
    "juror_invited": N_("Die Einladung in die Jury ist verschickt."),
    "juror_removed": N_("Das Jurymitglied ist entfernt; offene Zuteilungen sind freigegeben."),
    "conflict_recorded": N_("Der Interessenkonflikt ist eingetragen."),
    "conflict_removed": N_("Der Interessenkonflikt ist entfernt."),
    "declaration_decided": N_("Die Angabe ist entschieden."),
    "recused": N_(
        "Sie haben sich für befangen erklärt. Die Organisation teilt den Beitrag neu zu."
    ),
    "reminders_sent": N_("Erinnerungen an Jurymitglieder mit offenen Bögen sind unterwegs."),
    "run_started": N_("Die Berechnung läuft. Diese Seite zeigt das Ergebnis, sobald es da ist."),
    "run_deployed": N_("Die Zuteilung ist übernommen; die Jurymitglieder werden benachrichtigt."),
    "winners_saved": N_("Die Siegerauswahl ist gespeichert."),
    "published": N_("Die Sieger sind veröffentlicht; die Benachrichtigungen gehen heraus."),
}


class LoginRequired(Exception):
    """Raised by pages for signed-in people; answered with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def request_locale(request: Request[Any, Any, Any]) -> str:
    """`?lang=` first, then the language cookie, else German."""
    return (
        i18n.pick_locale(request.query_params.get("lang"))
        or i18n.pick_locale(request.cookies.get(i18n.LANG_COOKIE))
        or i18n.DEFAULT_LOCALE
    )


def path_with(request: Request[Any, Any, Any], **params: str) -> str:
    query = {k: v for k, v in request.query_params.items() if k not in params}
    query.update(params)
    return request.url.path + ("?" + urlencode(query) if query else "")


def safe_next(value: str | None) -> str | None:
    """Only our own paths: `//host` and `/\\host` would leave the site."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return None


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str) -> str:
    return i18n.gettext(context.get("locale", i18n.DEFAULT_LOCALE), message)


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    return i18n.ngettext(context.get("locale", i18n.DEFAULT_LOCALE), singular, plural, n)


def _with_locale(format_value: Any) -> Any:
    @jinja2.pass_context
    def apply(context: jinja2.runtime.Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        return format_value(value, context.get("locale", i18n.DEFAULT_LOCALE), *args, **kwargs)

    return apply


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    env.filters.update(
        moment=_with_locale(i18n.moment),
        day=_with_locale(i18n.day),
        number=_with_locale(i18n.number),
        integer=_with_locale(i18n.integer),
        size=_with_locale(i18n.size),
        loc=_with_locale(i18n.localized),
    )

    @jinja2.pass_context
    def label_in_locale(context: jinja2.runtime.Context, kind: str, code: str) -> str:
        return label(kind, code, context.get("locale", i18n.DEFAULT_LOCALE))

    @jinja2.pass_context
    def label_filter(context: jinja2.runtime.Context, code: str, kind: str) -> str:
        return label(kind, code, context.get("locale", i18n.DEFAULT_LOCALE))

    @jinja2.pass_context
    def field_label_in_locale(
        context: jinja2.runtime.Context, key: str, given: dict[str, str] | None = None
    ) -> str:
        return field_label(key, context.get("locale", i18n.DEFAULT_LOCALE), given)

    env.globals["label"] = label_in_locale
    env.globals["field_label"] = field_label_in_locale
    env.filters["label"] = label_filter
    env.filters["zip"] = lambda left, right: list(zip(left, right, strict=True))
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))


class UI:
    """The page side of one request: language, signed-in person, rendering and redirects."""

    def __init__(
        self,
        request: Request[Any, Any, Any],
        principal: Principal | None,
        conn: asyncpg.Connection,
    ) -> None:
        self.request = request
        self.principal = principal
        self.conn = conn
        self.locale = request_locale(request)

    def _(self, message: str, **params: Any) -> str:
        text = i18n.gettext(self.locale, message)
        return text % params if params else text

    def user(self) -> Principal:
        """The signed-in person, or a redirect to the login page and back."""
        if self.principal is None:
            raise LoginRequired(
                self.request.url.path
                + ("?" + self.request.url.query if self.request.url.query else "")
            )
        return self.principal

    @property
    def csrf_token(self) -> str:
        # The session's token is also in the readable cookie set at login; the check compares
        # whatever the form sends with the session in Redis (competition.auth).
        return self.request.cookies.get(sessions.CSRF_COOKIE, "")

    async def render(self, template: str, *, status_code: int = 200, **context: Any) -> Template:
        cookies: list[Cookie] = []
        notice_key = self.request.cookies.get(NOTICE_COOKIE)
        # The cookie comes back as any string; only the keys above show a text.
        notice = NOTICES.get(notice_key) if notice_key in NOTICES else None
        if notice_key:
            cookies.append(Cookie(key=NOTICE_COOKIE, value="", max_age=0, path="/"))
        chosen = i18n.pick_locale(self.request.query_params.get("lang"))
        if chosen:
            cookies.append(
                Cookie(
                    key=i18n.LANG_COOKIE,
                    value=chosen,
                    max_age=YEAR_SECONDS,
                    path="/",
                    samesite="lax",
                    httponly=True,
                )
            )
        is_juror = self.principal is not None and await jury_overview.is_juror(
            self.conn, self.principal
        )
        base: dict[str, Any] = {
            "locale": self.locale,
            "user": self.principal,
            "is_juror": is_juror,
            "is_organiser": self.principal is not None and self.principal.is_organiser,
            "csrf_token": self.csrf_token,
            "notice": i18n.gettext(self.locale, notice) if notice else "",
            "path": self.request.url.path,
            "lang_links": {code: path_with(self.request, lang=code) for code in i18n.LOCALES},
            "errors": {},
            "message": "",
            "values": {},
        }
        base.update(context)
        return Template(
            template_name=template, context=base, status_code=status_code, cookies=cookies
        )

    def redirect(self, path: str, *, notice: Notice | None = None) -> Redirect:
        """303 See Other after a form, with a one-time notice for the next page."""
        cookies = [Cookie(key=NOTICE_COOKIE, value=notice, path="/", max_age=120, httponly=True)]
        return Redirect(path=path, status_code=303, cookies=cookies if notice else [])


def login_path(next_path: str) -> str:
    return "/login?" + urlencode({"next": next_path})


async def provide_ui(request: Request[Any, Any, Any], principal: PrincipalDep, conn: Conn) -> UI:
    return UI(request, principal, conn)


UIDep = NamedDependency[UI]
