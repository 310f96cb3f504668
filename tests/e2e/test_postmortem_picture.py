"""The timeline picture of the demo incident: shared with the Markdown post-mortem in one
message when the incident is resolved, and served by `GET /api/incidents/{id}/postmortem.png`."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from matplotlib.image import imread

from bot.demo import demo_config, script
from tests.e2e.conftest import StageFactory
from tests.e2e.helpers import incident_of, only_incident_channel

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PNG = b"\x89PNG\r\n\x1a\n"


async def test_the_picture_goes_with_the_post_mortem_and_the_api_serves_it(
    make_stage: StageFactory, tmp_path: Path
) -> None:
    tokens = {"STEADYHAND_API_TOKENS": TOKEN}
    async with demo_config(tmp_path) as env, make_stage(env={**env, **tokens}) as stage:
        await script(stage)  # ends with Bob resolving the incident
        channel = only_incident_channel(stage.sandbox)
        incident = await incident_of(stage, channel)
        [shared] = [m for m in stage.sandbox.messages(channel.id) if m.get("files")]
        uploaded = {f["name"]: stage.sandbox.uploaded(f["id"]) for f in shared["files"]}
        async with httpx.AsyncClient(base_url=stage.base_url) as client:
            served = await client.get(f"/api/incidents/{incident.id}/postmortem.png", headers=AUTH)
            missing = await client.get("/api/incidents/nope/postmortem.png", headers=AUTH)
            anonymous = await client.get(f"/api/incidents/{incident.id}/postmortem.png")

    markdown, picture = list(uploaded)  # one message, both files
    assert markdown.startswith(f"postmortem-{incident.id}-") and markdown.endswith(".md")
    assert picture == f"timeline-{incident.id}.png"
    assert (uploaded[markdown] or b"").startswith(b"# Post-mortem: ")
    assert (uploaded[picture] or b"").startswith(PNG)
    assert shared["files"][1]["title"] == "Timeline: Answers cite the retired refund policy"

    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == "image/png"
    height, width, _ = imread(io.BytesIO(served.content), format="png").shape
    assert width == 1200 and 300 < height < 1000
    assert missing.status_code == 404 and "No incident" in missing.json()["error"]
    assert anonymous.status_code == 401
