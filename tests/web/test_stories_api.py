"""One JSON shape per story: `outlets` is the outlet count in the list and in one story
alike (`GET /stories`, `GET /stories/{id}`, the `--json` of `stories list` and `show`); a
story's outlet names are `outlet_names`."""

from __future__ import annotations

from tests.support.api import Served


async def test_outlets_is_a_count_in_the_list_and_in_one_story(api: Served) -> None:
    async with api.client("viewer") as client:
        listed = await client.get("/api/v1/stories")
        shown = await client.get(f"/api/v1/stories/{api.seeded.story_id}")
    assert listed.status_code == shown.status_code == 200, (listed.text, shown.text)
    (summary,) = [s for s in listed.json() if s["id"] == api.seeded.story_id]
    story = shown.json()
    assert isinstance(summary["outlets"], int)
    assert story["outlets"] == summary["outlets"] == len(story["outlet_names"])
    assert all(isinstance(name, str) for name in story["outlet_names"])
    assert {k: story[k] for k in summary} == summary
