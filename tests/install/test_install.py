"""The installed environment is what the README promises: every module of the package imports,
`pip check` finds no missing or conflicting dependency, and CI installs exactly as the README's
first command does."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import monitor

ROOT = Path(__file__).resolve().parents[2]
# Alembic loads these itself, inside a migration context; `python -m monitor` runs the CLI.
NOT_IMPORTABLE_ALONE = ("monitor.migrations", "monitor.__main__")


def _modules() -> list[str]:
    names = [
        m.name
        for m in pkgutil.walk_packages(monitor.__path__, prefix="monitor.")
        if not m.name.startswith(NOT_IMPORTABLE_ALONE)
    ]
    return sorted(names)


def test_the_package_has_modules_to_import() -> None:
    names = _modules()
    assert "monitor.cli" in names
    assert "monitor.pipeline.extract" in names
    assert len(names) > 50


IMPORT_EACH = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc(limit=1).strip().splitlines()[-1])
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports() -> None:
    """A runtime dependency missing from pyproject.toml fails here with its name."""
    # A fresh interpreter, not this one: here the test tooling has imported plenty already.
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, *_modules()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


def test_trafilatura_imports_with_its_html_cleaner() -> None:
    """jusText needs lxml.html.clean; pip 23.2 silently skips lxml's renamed extra."""
    importlib.import_module("lxml.html.clean")
    importlib.import_module("trafilatura")


def test_pip_check_finds_no_broken_requirement() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def readme_commands() -> list[str]:
    """The README's first two fenced `sh` blocks: install + demo, then the tests."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [b.strip() for b in blocks[:2]]


def test_the_readme_starts_with_the_install_and_the_test_command() -> None:
    install, tests = readme_commands()
    assert install.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install")
    assert install.endswith("monitor demo")
    assert "upgrade" not in install
    assert tests == "./scripts/test"


def test_ci_runs_the_readme_commands_themselves() -> None:
    """.ci/run takes its install and test commands from the README, so they cannot drift."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "readme-commands"), str(ROOT / "README.md")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().split("\n") == readme_commands()
    assert "readme-commands" in ci
    # CI installs nothing the README does not: no pip call and no pip upgrade of its own.
    assert not re.search(r"pip3?\s+install|-m\s+pip", ci)
