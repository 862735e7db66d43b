"""What every browser journey needs: accessibility checks with axe-core, screenshots, links from
mails, logging in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from tests.browser.conftest import ROOT
from tests.helpers import PASSWORD

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
LINK = re.compile(r"https?://[^\s\"'<>]+")


async def check_accessibility(page: Page, name: str) -> None:
    """axe-core on the page as it is now; no serious or critical violation may remain.

    Evaluated through the DevTools protocol rather than a <script> tag: the app's CSP allows
    scripts from its own origin only, and the test must not weaken it."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
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
