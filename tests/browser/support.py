"""What every browser journey needs: accessibility checks with axe-core, screenshots, links from
mails, logging in."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.async_api import Page

from tests.browser.conftest import ROOT
from tests.helpers import PASSWORD, Session, login, poll

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
LINK = re.compile(r"https?://[^\s\"'<>]+")


@functools.cache
def axe_source() -> str:
    assert AXE.exists(), f"{AXE} is missing: run `npm ci` in the repository"
    return AXE.read_text(encoding="utf-8")


async def check_accessibility(page: Page, name: str) -> None:
    """axe-core on the page as it is now; no serious or critical violation may remain.

    Evaluated through the DevTools protocol rather than a <script> tag: the app's CSP allows
    scripts from its own origin only, and the test must not weaken it."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(axe_source())
    violations: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))
            }));
        }"""
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert blocking == [], f"{name}: " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}) at {', '.join(v['nodes'])}" for v in blocking
    )


async def capture(page: Page, folder: Path, name: str, *, a11y: bool = True) -> None:
    """A full-page screenshot for the README's folder, and the accessibility check."""
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    if a11y:
        await check_accessibility(page, name)


def link_in(mail: Any, base_url: str, path: str) -> str:
    """The first link to `path` on the served app in a mail's plain-text part."""
    body: str = mail.message.get_body(preferencelist=("plain",)).get_content()
    for url in LINK.findall(body):
        if url.startswith(f"{base_url}{path}"):
            return str(url)
    raise AssertionError(f"no link to {path} in mail:\n{body}")


async def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    await page.goto("/login")
    await page.get_by_label("E-Mail-Adresse").fill(email)
    await page.get_by_label("Passwort", exact=True).fill(password)
    await page.get_by_role("button", name="Anmelden", exact=True).last.click()
    await page.wait_for_url("**/mein-bereich")


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def wait_for_run(session: Session, path: str) -> dict[str, Any]:
    """Poll an assignment or result run until the worker has finished it."""

    async def finished() -> dict[str, Any] | None:
        body: dict[str, Any] = (await session.get(path)).json()
        return body if body["status"] not in ("queued", "running") else None

    found: dict[str, Any] = await poll(finished)
    return found


async def accept_invitations(
    new_client: Callable[[], httpx.AsyncClient],
    smtp_server: Any,
    base_url: str,
    competition_id: str,
    emails: Sequence[str],
) -> list[Session]:
    mails = await smtp_server.wait_for(len(emails), timeout=20)
    by_address = {m.message["To"]: m for m in mails}
    sessions = []
    for email in emails:
        c = new_client()
        token = token_of(link_in(by_address[email], base_url, "/jury/accept?token="))
        r = await c.post(
            "/api/v1/jury/invitations/accept", json={"token": token, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        session = await login(c, email)
        r = await session.put(
            f"/api/v1/competitions/{competition_id}/conflicts/me",
            json={"conflicts": [], "confirmed_complete": True},
        )
        assert r.status_code == 200, r.text
        sessions.append(session)
    return sessions


async def score_all(
    juror: Session, competition_id: str, scores: Mapping[str, Mapping[str, float]]
) -> None:
    """Final sheets for every assignment of the juror; `scores` by entry title."""
    items = (await juror.get(f"/api/v1/me/assignments?competition_id={competition_id}")).json()
    for item in items:
        r = await juror.put(
            f"/api/v1/assignments/{item['id']}/score",
            json={"scores": scores[item["entry"]["title"]], "final": True},
        )
        assert r.status_code == 200, r.text
