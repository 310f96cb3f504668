"""The demo incident's post-mortem over `GET /api/incidents/{id}/postmortem`."""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.demo import demo_config, script
from tests.e2e.conftest import StageFactory
from tests.e2e.helpers import incident_of, only_incident_channel

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_the_demo_incident_post_mortem_is_served_as_markdown(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    async with demo_config(tmp_path, extra="display_timezone: Europe/Paris\n") as env:
        env = {**env, "STEADYHAND_API_TOKENS": TOKEN}
        async with make_stage(env=env) as stage:
            await script(stage)
            incident = await incident_of(stage, only_incident_channel(stage.sandbox))
            async with httpx.AsyncClient(base_url=stage.base_url) as client:
                response = await client.get(
                    f"/api/incidents/{incident.id}/postmortem", headers=AUTH
                )
                missing = await client.get("/api/incidents/nope/postmortem", headers=AUTH)
                anonymous = await client.get(f"/api/incidents/{incident.id}/postmortem")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/markdown")
    text = response.text
    print(text)
    for expected in (
        "# Post-mortem: Answers cite the retired refund policy",
        "| Time to acknowledge | 2m 00s |",
        "| Time to mitigate | 21m 00s | opened → roll back support-bot prompt v13 → v12 applied |",
        "| Time to resolve | 34m 00s |",
        "| Ran on the bad change | 1h 01m | prompt v13 deployed",
        "### 1. roll back support-bot prompt v13 → v12",
        "- Before → after: `prompt` v13 → v12",
        "approved by @U_CAROL",
        "- Verification: passed (score 0.91)",
        "support-bot `prompt` v12 → v13 | github-actions | 0.84",
        "| Europe/Paris |",
        "Answered by @U_BOB",
    ):
        assert expected in text, expected
    assert missing.status_code == 404 and "No incident" in missing.json()["error"]
    assert anonymous.status_code == 401
