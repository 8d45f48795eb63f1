"""schemathesis against the served OpenAPI document, over a seeded database: no answer is a
5xx, and every answer's status, content type and body are the ones the document declares.

CI runs a few examples per operation; the `slow` test runs many. Operations that end the
fuzzer's own credentials (removing or demoting users, revoking tokens, signing out) are left
out of the run; the authorisation matrix and the safety tests call them."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.api import Served, served_api

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
SPARED = r"^(remove_user|change_user|revoke_token|close_session)_"


@pytest.fixture
async def api(engine: AsyncEngine) -> AsyncIterator[Served]:
    async with served_api(engine, limiter_limit=10**6) as served:
        yield served


async def _fuzz(api: Served, examples: int, report: Path) -> None:
    argv = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{api.base_url}/api/v1/openapi.json",
        "--checks", CHECKS,
        "--max-examples", str(examples),
        "--seed", "18",
        "--phases", "examples,coverage,fuzzing",
        "--exclude-operation-id-regex", SPARED,
        "--header", f"Authorization: Bearer {api.seeded.tokens['admin']}",
        "--generation-with-security-parameters", "false",
        "--generation-database", "none",
        "--request-timeout", "30",
        "--workers", "1",
        "--no-color",
        "--report", "junit",
        "--report-junit-path", str(report),
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
    assert "operations" in text.lower() or "passed" in text.lower(), text[-2000:]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_served_schema_holds_for_generated_requests(api: Served, tmp_path: Path) -> None:
    await _fuzz(api, 5, tmp_path / "junit.xml")


@pytest.mark.slow
async def test_the_served_schema_holds_for_many_generated_requests(
    api: Served, tmp_path: Path
) -> None:
    await _fuzz(api, 200, tmp_path / "junit.xml")
