"""A hostile-text corpus through every CLI command that prints, and through the log channel, on a
pseudo-terminal: exit 0, no escape byte reaches the terminal, the text is visible.

The corpus: rich markup (`[/]`, `[link=…]`), terminal escapes (clear screen, OSC window title,
OSC-8 hyperlink, the one-byte CSI), bidi overrides, NUL, a lone surrogate, a 5 MB title, a JSON
Feed nested too deeply, a Content-Type and a permanent redirect carrying markup, and markup and
escapes in the config's own names. Every command runs under `tests.support.strict_rich`, which
stops the process (exit 97) when remote text reaches a rich table, panel or line without
`monitor.textsafe`.

The program sees a terminal (stdout and stderr are a pty, so the log channel prints its panel
and logs use the console format). NO_COLOR and TTY_COMPATIBLE=0 (rich's switch for a terminal
that takes no escape codes) keep the program's own output free of escapes, so any ESC byte in
it came from the corpus. A second pass with a colour terminal allows only the escapes rich
writes for its own styling.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.feedserver import FeedServer
from tests.support.strict_rich import COMMAND, EXIT_CODE, MARKER
from tests.support.terminal import TerminalRun, run_on_pty

ROOT = Path(__file__).resolve().parents[2]
HUGE_TITLE = f"{MARKER} huge Kabul " + "T" * 5_000_000
# title -> what of it must be visible once neutralised
CORPUS = {
    f"[/] stray closing tag {MARKER} Kabul": "[/] stray closing tag",
    f"[link=http://127.0.0.1:9/phish]click me {MARKER} Kabul[/link]": "[link=http://127.0.0.1:9/phish]click me",
    f"\x1b[2J\x1b[H cleared {MARKER} Kabul": "␛[2J␛[H cleared",
    f"\x1b]0;pwned {MARKER}\x07 window title Kabul": "␛]0;pwned",
    f"\x1b]8;;http://127.0.0.1:9/phish\x1b\\link text {MARKER} Kabul\x1b]8;;\x1b\\": "␛]8;;http://127.0.0.1:9/phish␛\\link text",
    f"\x9b2J eight-bit CSI {MARKER} Kabul": "\\x9b2J eight-bit CSI",
    f"invoice \u202egnp.exe\u202c {MARKER} Kabul": "invoice ⟨U+202E⟩gnp.exe⟨U+202C⟩",
    f"nul\x00byte {MARKER} Kabul": "nul\ufffdbyte",  # stored as U+FFFD: PostgreSQL holds no NUL
    f"lone \udc80 surrogate {MARKER} Kabul": "lone \ufffd surrogate",
    HUGE_TITLE: f"{MARKER} huge Kabul",
}
# A byte a terminal would act on: ESC, the UTF-8 of a C1 control, of a bidi override or isolate.
OBEYED = re.compile(rb"\x1b|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")
# What rich writes for its own styling on a colour terminal: SGR, cursor show/hide, line erase.
RICH_OWN = re.compile(rb"\x1b\[[0-9;]*m|\x1b\[\?25[lh]|\x1b\[2K|\x1b\[1A")


def _json_feed() -> bytes:
    items = [
        {
            "id": f"h{i}",
            "url": f"https://news.example/{i}",
            "title": title,
            "content_text": f"Body of item {i}: {title[:200]} in Kabul. {MARKER}",
            "authors": [{"name": f"\x1b[31mauthor {MARKER}"}],
        }
        for i, title in enumerate(CORPUS)
    ]
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"[bold]feed[/bold] \x1b]0;{MARKER}\x07",
        "items": items,
    }
    return json.dumps(feed).encode()  # ASCII: NUL and the lone surrogate as \u escapes


def _deep_feed() -> bytes:
    head = '{"version": "https://jsonfeed.org/version/1.1", "title": "deep", "items": '
    return (head + "[" * 5000 + "]" * 5000 + "}").encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        srv.add("/hostile.json", _json_feed(), "application/feed+json")
        srv.add("/deep.json", _deep_feed(), "application/feed+json")
        srv.add("/odd-type", f"hello {MARKER}", f"x/[/]{MARKER}")
        moved = srv.url(f"/hostile.json?moved=[/]{MARKER}")
        srv.add(f"/hostile.json?moved=[/]{MARKER}", _json_feed(), "application/feed+json")
        srv.add("/moved", b"", status=301, headers={"Location": moved})
        yield srv


def _config(folder: Path, database_url: str, server: FeedServer) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "monitor.toml"
    path.write_text(
        f"""
[database]
url = "{database_url}"

[polling]
allow_networks = ["127.0.0.1/32"]
fetch_articles = false
timeout = "10s"

[[feeds]]
url = "{server.url("/hostile.json")}"
name = "\\u001b[31mconfig name [/] {MARKER}"

[[feeds]]
url = "{server.url("/deep.json")}"

[[feeds]]
url = "{server.url("/odd-type")}"

[[feeds]]
url = "{server.url("/moved")}"

[[watchlists]]
name = "desk [/] {MARKER}"
channels = ["log [/] {MARKER}"]
terms = ["Kabul"]
query = "Kabul OR \\"[/] {MARKER}\\""

[channels."log [/] {MARKER}"]
type = "log"
""",
        encoding="utf-8",
    )
    return path


def _env(*, colour: bool = False) -> dict[str, str]:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "250", "PYTHONPATH": str(ROOT)}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    return env if colour else {**env, "NO_COLOR": "1", "TTY_COMPATIBLE": "0"}


def _monitor(
    config: Path, *args: str, stdin: bytes | None = None, colour: bool = False
) -> TerminalRun:
    command = [sys.executable, "-c", COMMAND, "--config", str(config), *args]
    return run_on_pty(command, env=_env(colour=colour), cwd=ROOT, stdin=stdin)


def _each(
    config: Path, commands: Sequence[tuple[str, ...]], *, colour: bool = False
) -> list[TerminalRun]:
    """Run commands that only read, two at a time (each process is mostly its own start-up,
    which would leave the second core idle), and return their runs in order."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda command: _monitor(config, *command, colour=colour), commands))


def _problems(
    name: str, run: TerminalRun, *, code: int = 0, visible: tuple[str, ...] = ()
) -> list[str]:
    found = []
    if run.code != code:
        reason = "strict_rich tripped" if run.code == EXIT_CODE else "unexpected exit"
        found.append(f"{name}: {reason} {run.code} (wanted {code}): {run.text[-600:]}")
    if "Traceback" in run.text:
        found.append(f"{name}: printed a traceback: {run.text[-600:]}")
    obeyed = OBEYED.search(run.output)
    if obeyed:
        around = run.output[max(0, obeyed.start() - 60) : obeyed.end() + 20]
        found.append(f"{name}: a terminal would obey {obeyed.group()!r} in {around!r}")
    found += [f"{name}: {text!r} is not visible" for text in visible if text not in run.text]
    return found


def _original(stored_title: str) -> str:
    """The corpus title a stored (cut, storable) title came from."""
    prefix = stored_title.rstrip("…")[:40]
    unstorable = re.compile("[\x00\ud800-\udfff]")
    return next(t for t in CORPUS if unstorable.sub("\ufffd", t).startswith(prefix))


# The corpus runs through about forty CLI processes: once on SQLite in the normal suite; the
# PostgreSQL pass is a `slow` run (storing NUL and lone surrogates on PostgreSQL is covered by
# tests/integration/test_text_caps_round.py on both backends).
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)], indirect=True
)
def test_hostile_text_is_shown_never_obeyed(
    server: FeedServer, tmp_path: Path, database_url: str
) -> None:
    config = _config(tmp_path, database_url, server)
    problems: list[str] = []
    shown = tuple(CORPUS.values())

    # The log channel's panel, on the terminal of the service itself.
    first = _monitor(config, "run", "--once")
    problems += _problems("run --once", first, visible=("stray closing tag", "␛[2J␛[H cleared"))
    checks: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
        (
            ("status",),
            ("nested too deeply", "x/[/]hostile", "␛[31mconfig name [/]", "[bold]feed[/bold] ␛]0;"),
        ),
        (("feeds", "list"), (f"moved=[/]{MARKER}", "␛[31mconfig name [/]")),
        (("feeds", "export"), (MARKER,)),
        (("alerts", "list"), ("stray closing tag", "⟨U+202E⟩gnp.exe", f"desk [/] {MARKER}")),
        (("alerts", "list", "--json"), (MARKER,)),
        (("articles", "list", "--json"), (MARKER,)),
        (("articles", "search", "Kabul", "--limit", "100"), ("stray closing tag", "nul\ufffdbyte")),
        (("stories", "list"), (MARKER,)),
        (("watchlists", "list"), (f"desk [/] {MARKER}", f"log [/] {MARKER}")),
        (("channels", "list"), (f"log [/] {MARKER}",)),
        (("config", "check"), ("ok",)),
    ]
    listed, *runs = _each(
        config, [("articles", "list", "--limit", "1000"), *(command for command, _ in checks)]
    )
    problems += _problems("articles list", listed, visible=shown)
    for (command, visible), run in zip(checks, runs, strict=True):
        problems += _problems(" ".join(command), run, visible=visible)

    articles = json.loads(_monitor(config, "articles", "list", "--json").text)
    assert len(articles) == len(CORPUS), "an item of the corpus was not stored"
    shows = _each(config, [("articles", "show", str(article["id"])) for article in articles])
    for article, run in zip(articles, shows, strict=True):
        problems += _problems(
            f"articles show {article['id']}",
            run,
            visible=(CORPUS[_original(article["title"])],),
        )
    alerts = json.loads(_monitor(config, "alerts", "list", "--json").text)
    assert alerts, "the corpus raised no alert"
    note = f"[/] {MARKER} \x1b[2J note"
    triaged = _monitor(config, "alerts", "triage", alerts[0]["id"], "acknowledged", "--note", note)
    problems += _problems("alerts triage", triaged)
    problems += _problems(
        "alerts show",
        _monitor(config, "alerts", "show", alerts[0]["id"]),
        visible=(f"[/] {MARKER} ␛[2J note",),
    )
    problems += _problems(
        "stories show", _monitor(config, "stories", "show", str(alerts[0]["story"]["id"]))
    )
    text = (
        "\n".join(CORPUS).replace(HUGE_TITLE, HUGE_TITLE[:100_000]).encode("utf-8", "surrogatepass")
    )
    problems += _problems(
        "watchlists test -",
        _monitor(config, "watchlists", "test", "-", stdin=text),
        visible=("stray closing tag", "␛[2J"),
    )
    # Again on a colour terminal (a fresh SQLite database, so the log channel prints again):
    # nothing but rich's own styling escapes.
    coloured = _config(tmp_path / "colour", f"sqlite+aiosqlite:///{tmp_path}/colour.db", server)
    reads = [("alerts", "list"), ("status",), ("articles", "show", "1")]
    styled_runs = [
        _monitor(coloured, "run", "--once", colour=True),
        *_each(coloured, reads, colour=True),
    ]
    for command, styled in zip([("run", "--once"), *reads], styled_runs, strict=True):
        problems += _problems(
            f"{' '.join(command)} (colour)",
            TerminalRun(styled.code, RICH_OWN.sub(b"", styled.output)),
            visible=(MARKER,),
        )
    assert not problems, "\n".join(problems)


def test_hostile_error_lines_are_one_visible_line(
    server: FeedServer, tmp_path: Path, database_url: str
) -> None:
    config = _config(tmp_path, database_url, server)
    unknown_key = tmp_path / "unknown.toml"
    unknown_key.write_text(f'[polling]\n"[/]{MARKER}\\u001b[2J" = 1\n', encoding="utf-8")
    missing = tmp_path / "missing.toml"
    missing.write_text('[[watchlists]]\nname = "w"\nchannels = ["nowhere"]\n', encoding="utf-8")
    # name, config, arguments, stdin, exit code, what must be visible; none of them writes,
    # so they run two at a time.
    cases: list[tuple[str, Path, tuple[str, ...], bytes | None, int, tuple[str, ...]]] = [
        (
            "articles search (deep)",
            config,
            ("articles", "search", "(" * 200 + "Kabul" + ")" * 200),
            None,
            2,
            ("query too deep: at most 50 nested groups",),
        ),
        (
            "articles search (NOT x400)",  # within the search length limit, past the depth
            config,
            ("articles", "search", "NOT " * 400 + "Kabul"),
            None,
            2,
            ("query too deep",),
        ),
        (
            "articles search (NOT x3000)",
            config,
            ("articles", "search", "NOT " * 3000 + "Kabul"),
            None,
            2,
            ("queries are limited to 2,000 characters; this one has 12,005",),
        ),
        (
            "alerts show (hostile id)",
            config,
            ("alerts", "show", f"alt_[/]\x1b[2J{MARKER}"),
            None,
            1,
            (f"alt_[/]\\x1b[2J{MARKER}",),
        ),
        (
            "config check (key [/])",
            unknown_key,
            ("config", "check"),
            None,
            2,
            (f"[/]{MARKER}␛[2J", "unknown key"),
        ),
        (
            "users add (hostile name)",
            config,
            ("users", "add", f"ann [/] {MARKER}\x1b[2J"),
            b"s3cret-password\n",
            2,
            (f"bad user name 'ann [/] {MARKER}\\x1b[2J'",),
        ),
        (
            "config check (no such channel)",
            missing,
            ("config", "check"),
            None,
            2,
            ("(define it under [channels.NAME])",),
        ),
    ]
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda c: _monitor(c[1], *c[2], stdin=c[3]), cases))
    problems: list[str] = []
    for (name, _, _, _, code, visible), run in zip(cases, runs, strict=True):
        problems += _problems(name, run, code=code, visible=visible)
    assert not problems, "\n".join(problems)
