"""Unknown ids on every page and form, from the app's route table: the page's service is asked
first, so an id nobody has is a 404 (never a 500 or a form error about something else), also
under the organiser's own competition."""

from __future__ import annotations

import asyncpg
import httpx
from litestar import Litestar

from tests.helpers import account, login, open_competition
from tests.security.test_web_fuzz import UNKNOWN_ID, web_routes


async def test_every_page_and_form_answers_an_unknown_id_with_404(
    client: httpx.AsyncClient, pool: asyncpg.Pool, app: Litestar
) -> None:
    await account(pool, "orga@wettbewerb.test", "Orga", organiser=True)
    organiser = await login(client, "orga@wettbewerb.test")
    own = (await open_competition(organiser))["id"]
    answers: dict[str, int] = {}
    for route in web_routes(app):
        names = [name for name, kind in route.params if kind == "uuid"]
        if not names:
            continue
        # Everything unknown; then, where the page names more, the organiser's own competition
        # with an unknown object in it.
        choices = [dict.fromkeys(names, UNKNOWN_ID)]
        if "competition_id" in names and len(names) > 1:
            choices.append({**choices[0], "competition_id": own})
        for ids in choices:
            path = route.fill(ids)
            if route.method == "GET":
                r = await client.get(path)
            else:
                r = await client.post(path, data={"csrf_token": organiser.csrf})
            answers[f"{route.method} {path.replace(own, 'own')}"] = r.status_code
    assert {key: status for key, status in answers.items() if status != 404} == {}
    assert len(answers) == 48  # every page and form with an id (a new one counts here too)
