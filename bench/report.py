"""Rows of the results table, their targets, the printed table, latest.json and the chart."""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

Kind = Literal["ratio_min", "value_min", "value_max"]
_CLAMP = (0.01, 100.0)


@dataclass(frozen=True, slots=True)
class Target:
    """A pass condition: the ratio to the baseline at least `bound`, or the value at least /
    at most `bound`."""

    kind: Kind
    bound: float
    unit: str = ""

    def text(self) -> str:
        if self.kind == "ratio_min":
            return f"≥ {self.bound:g}×"
        sign = "≥" if self.kind == "value_min" else "≤"
        return f"{sign} {self.bound:g} {self.unit}".rstrip()

    @classmethod
    def parse(cls, text: str) -> Target:
        """The target `text()` wrote ("≥ 0.75×", "≤ 300 MB")."""
        sign, _, rest = text.partition(" ")
        if rest.endswith("×"):
            return cls("ratio_min", float(rest[:-1]))
        bound, _, unit = rest.partition(" ")
        return cls("value_min" if sign == "≥" else "value_max", float(bound), unit)

    def met(self, value: float, ratio: float | None) -> bool | None:
        if self.kind == "ratio_min":
            return None if ratio is None else ratio >= self.bound
        return value >= self.bound if self.kind == "value_min" else value <= self.bound

    def score(self, value: float, ratio: float | None) -> float | None:
        """How far the target is met: ≥ 1 passes (for the chart)."""
        if self.kind == "ratio_min":
            return None if ratio is None else ratio / self.bound
        if self.kind == "value_min":
            return value / self.bound
        return self.bound / value if value > 0 else math.inf


def ratio_at_least(bound: float) -> Target:
    return Target("ratio_min", bound)


def at_least(bound: float, unit: str = "") -> Target:
    return Target("value_min", bound, unit)


def at_most(bound: float, unit: str = "") -> Target:
    return Target("value_max", bound, unit)


@dataclass(frozen=True, slots=True)
class Row:
    """One figure: ours, the baseline measured in the same run, the target."""

    scenario: str
    figure: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: Target | None = None
    note: str = ""
    higher_is_better: bool = True

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline or not self.value:
            return None
        return self.value / self.baseline if self.higher_is_better else self.baseline / self.value

    @property
    def passed(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value, self.ratio)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["target"] = None if self.target is None else self.target.text()
        data["ratio"] = self.ratio
        data["passed"] = self.passed
        return data


@dataclass
class Run:
    """All rows of one harness run and how it was run."""

    profile: str
    command: str
    rows: list[Row] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    seconds: float = 0.0
    load_average: float = 0.0  # 1-minute load average when the run started


def number(value: float | None) -> str:
    """A figure with 3 significant digits, without scientific notation for normal sizes."""
    if value is None:
        return ""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{digits}f}"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(memory_gb, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def print_table(run: Run, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"feed-monitor benchmark ({run.profile})", show_lines=False)
    for name, justify in (
        ("scenario", "left"),
        ("figure", "left"),
        ("ours", "right"),
        ("baseline", "right"),
        ("ratio", "right"),
        ("target", "left"),
        ("", "center"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in run.rows:
        baseline = (
            f"{number(row.baseline)} {row.baseline_label}".strip()
            if row.baseline is not None
            else ""
        )
        ratio = f"{number(row.ratio)}×" if row.ratio is not None else ""
        verdict = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: ""}[row.passed]
        table.add_row(
            row.scenario,
            row.figure,
            f"{number(row.value)} {row.unit}",
            baseline,
            ratio,
            row.target.text() if row.target else "",
            verdict,
        )
    console.print(table)
    for name, error in run.errors.items():
        console.print(f"[red]{name} failed:[/] {error.splitlines()[0] if error else ''}")
    notes = [(r.scenario, r.figure, r.note) for r in run.rows if r.note]
    for scenario, figure, note in notes:
        console.print(f"[dim]{scenario} / {figure}: {note}[/]")


def write_json(run: Run, path: Path) -> None:
    data = {
        "profile": run.profile,
        "command": run.command,
        "started_at": run.started_at,
        "seconds": round(run.seconds, 1),
        "load_average_at_start": round(run.load_average, 2),
        "machine": machine(),
        "rows": [row.as_dict() for row in run.rows],
        "errors": run.errors,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def rows_from_json(path: Path) -> list[Row]:
    """The rows of a results file (to redraw its chart)."""
    rows = []
    for data in json.loads(path.read_text(encoding="utf-8"))["rows"]:
        target = Target.parse(data["target"]) if data["target"] else None
        fields = {
            k: data[k]
            for k in (
                "scenario",
                "figure",
                "value",
                "unit",
                "baseline",
                "baseline_label",
                "note",
                "higher_is_better",
            )
        }
        rows.append(Row(target=target, **fields))
    return rows


def write_chart(rows: Sequence[Row], path: Path, title: str) -> None:
    """One bar per target: how far it is met (target = 1, log scale), green when met."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored: list[tuple[Row, float]] = []
    for row in rows:
        score = row.target.score(row.value, row.ratio) if row.target is not None else None
        if score is not None and math.isfinite(score) and score > 0:
            scored.append((row, score))
    if not scored:
        return
    labels = [f"{r.scenario}: {r.figure}" for r, _ in scored]
    shown = [
        min(max(s, _CLAMP[0]), _CLAMP[1]) for _, s in scored
    ]  # off-scale bars stop at the edge
    fig, ax = plt.subplots(figsize=(13, 0.42 * len(scored) + 1.4))
    colors = ["#2e7d32" if s >= 1 else "#c62828" for _, s in scored]
    y = list(range(len(scored)))
    ax.barh(y, shown, color=colors)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    for i, (row, _) in enumerate(scored):
        ratio = f" ({number(row.ratio)}×)" if row.ratio is not None else ""
        target = row.target.text() if row.target else ""
        ax.text(
            shown[i] * 1.1,
            i,
            f"{number(row.value)} {row.unit}{ratio}, target {target}",
            va="center",
            fontsize=7,
        )
    ax.set_xlabel("how far the target is met (1 = met; log scale, clipped at 0.01 and 100)")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(_CLAMP[0] / 2, _CLAMP[1] * 300)
    fig.subplots_adjust(
        left=0.33, right=0.98, top=1 - 0.5 / fig.get_figheight(), bottom=0.7 / fig.get_figheight()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
