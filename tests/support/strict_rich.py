"""A tripwire for tests: remote text that reaches rich without `monitor.textsafe` stops the process.

Test data from the remote side carries `MARKER`. Once `install()`ed, every way text enters rich —
a string printed or rendered (`Console.render_str`, markup parsing), a table cell, a panel's
body or title, a status line — is checked: a plain string, or a rich `Text` that is not a
`textsafe.SafeText`, that carries the marker means a table, panel or line was built from remote
text without the helper. The process then writes one line to stderr and exits 97 at once (an
exception could be swallowed, e.g. by a delivery worker counting it as a failed send).

Run a CLI command under it with `python -c "<COMMAND>" ARGS…` (see `COMMAND`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.status import Status
from rich.table import Table
from rich.text import Text

from monitor.textsafe import SafeText

MARKER = "HOSTILE"
EXIT_CODE = 97
COMMAND = (
    "import tests.support.strict_rich as guard; guard.install(); "
    "from monitor.cli import main; main()"
)


def _marked(text: str) -> bool:
    return MARKER in text.upper()  # remote parts may come lower-cased (a Content-Type)


def violation(value: Any) -> str | None:
    """Why `value` is remote text that skipped the helper, or None."""
    if isinstance(value, str) and _marked(value):
        return f"a plain string: {value[:80]!r}"
    if isinstance(value, Text) and not isinstance(value, SafeText) and _marked(value.plain):
        return f"a rich Text that is not a SafeText: {value.plain[:80]!r}"
    if isinstance(value, Group):
        return next(filter(None, (violation(v) for v in value.renderables)), None)
    return None


def _trip(where: str, values: tuple[Any, ...]) -> None:
    for value in values:
        found = violation(value)
        if found is not None:
            sys.stderr.write(f"strict_rich: {where} got remote text without textsafe: {found}\n")
            sys.stderr.flush()
            os._exit(EXIT_CODE)


def _checked(where: str, original: Callable[..., Any], pick: Callable[..., tuple[Any, ...]]) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _trip(where, pick(*args, **kwargs))
        return original(*args, **kwargs)

    return wrapper


def install(set_attribute: Callable[[Any, str, Any], None] = setattr) -> None:
    """Wrap rich's entry points (pass `monkeypatch.setattr` to undo it after a test)."""
    set_attribute(
        Console,
        "render_str",
        _checked("Console.render_str", Console.render_str, lambda self, text, **kw: (text,)),
    )
    set_attribute(
        Console,
        "print",
        _checked("Console.print", Console.print, lambda self, *objects, **kw: objects),
    )
    set_attribute(
        Table,
        "add_row",
        _checked("Table.add_row", Table.add_row, lambda self, *cells, **kw: cells),
    )
    set_attribute(
        Panel,
        "__init__",
        _checked(
            "Panel",
            Panel.__init__,
            lambda self, renderable, *args, **kw: (renderable, kw.get("title"), kw.get("subtitle")),
        ),
    )
    set_attribute(
        Status,
        "update",
        _checked("Status.update", Status.update, lambda self, status=None, **kw: (status,)),
    )
