"""Scenario 7: peak memory of one worker (the service process with its extraction pool)
over the end-to-end round and the unchanged round, sampled by the harness (bench.worker)."""

from __future__ import annotations

from bench.context import Context
from bench.report import Row, at_most
from bench.scenarios import e2e, ingest

NAME = "7 memory"


def run(ctx: Context) -> list[Row]:
    rows = []
    for scenario in (e2e.NAME, ingest.UNCHANGED):
        result = ctx.memory.get(scenario)
        if result is None:
            continue
        parts = ", ".join(f"{mb:.0f}" for mb in result.pss_at_peak)
        rows.append(
            Row(
                NAME,
                f"peak PSS of a worker and its pool, over {scenario[2:]}",
                result.peak_tree_pss_mb,
                "MB",
                target=at_most(300, "MB"),
                higher_is_better=False,
                note=f"service process alone: peak RSS {result.peak_main_rss_mb:.0f} MB; "
                f"at the peak, PSS by process (service first): {parts} MB",
            )
        )
    return rows
