"""The tripwire the hostile-text test runs the CLI under really trips: remote text put in a rich
table, panel or line without `monitor.textsafe` stops the process; through the helper it passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Group
from rich.text import Text

from monitor.textsafe import safe, safe_join
from tests.support.strict_rich import EXIT_CODE, MARKER, violation

ROOT = Path(__file__).resolve().parents[2]
REMOTE = f"[/] {MARKER} title"


def _under_guard(code: str) -> subprocess.CompletedProcess[str]:
    setup = (
        "import tests.support.strict_rich as guard; guard.install()\n"
        "from rich.console import Console, Group\nfrom rich.panel import Panel\n"
        "from rich.table import Table\nfrom rich.text import Text\n"
        "from monitor.textsafe import safe, cells\n"
        f"remote = {REMOTE!r}\nconsole = Console()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", setup + code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "code",
    [
        "table = Table('title'); table.add_row(remote); console.print(table)",
        "table = Table('title'); table.add_row(Text(remote)); console.print(table)",
        "console.print(Panel(Group(Text(remote))))",
        "console.print(Panel(safe('body'), title=remote))",
        "console.print(f'[bold]{remote}[/bold]', markup=False)",
        "console.print(Text('  ') + Text(remote))",
    ],
)
def test_remote_text_without_the_helper_stops_the_process(code: str) -> None:
    result = _under_guard(code)
    assert result.returncode == EXIT_CODE, result.stderr
    assert "got remote text without textsafe" in result.stderr


def test_remote_text_through_the_helper_passes() -> None:
    code = (
        "table = Table('title'); table.add_row(*cells(remote, 3)); console.print(table)\n"
        "console.print(Panel(Group(safe(remote)), title=safe(remote)))\n"
        "console.print(safe('  ') + remote)\n"
    )
    result = _under_guard(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(REMOTE) == 4


def test_violation_names_what_skipped_the_helper() -> None:
    assert violation(REMOTE) is not None
    assert violation(Text(REMOTE)) is not None
    assert violation(Group(safe("ok"), Text(REMOTE))) is not None
    assert violation(safe(REMOTE)) is None
    assert violation(safe_join("a ", REMOTE)) is None
    assert violation("plain local text") is None
