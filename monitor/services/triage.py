"""Alert triage: an analyst's verdict on an alert, and each watchlist's precision from it.

An alert starts `new`, set by no one (`by` and `at` are None); an analyst sets it to
`acknowledged`, `dismissed` or `false_positive` (a note is kept with any of them, and
required for a false positive), or back to `new`. The triage always keeps who set the
current state and when, a reset to `new` included; each change is also audited. A false
positive never re-alerts for its story: alerts are unique per (watchlist, story), so later
copies of the story, from any outlet, join the triaged alert instead of raising one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from monitor.errors import InvalidRequest, NotFound
from monitor.services.alerts import Alerts
from monitor.services.audit import record
from monitor.services.context import Context
from monitor.services.records import Triage
from monitor.storage import triage as store

TriageState = Literal["new", "acknowledged", "dismissed", "false_positive"]
STATES: tuple[TriageState, ...] = ("new", "acknowledged", "dismissed", "false_positive")
MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class Precision:
    """A watchlist's measured precision: of its triaged alerts, how many were false."""

    watchlist: str
    triaged: int
    false_positives: int

    @property
    def precision(self) -> float | None:
        """(triaged − false positives) / triaged, or None before anything is triaged."""
        if not self.triaged:
            return None
        return (self.triaged - self.false_positives) / self.triaged


def check_state(state: str) -> TriageState:
    for known in STATES:
        if state == known:
            return known
    raise InvalidRequest(f"unknown triage state {state!r}: use {', '.join(STATES)}")


def _triage(row: dict[str, Any]) -> Triage:
    return Triage(
        state=check_state(row["triage_state"]),
        note=row["triage_note"],
        by=row["triage_by"],
        at=row["triage_at"],
    )


def public(triage: Triage) -> dict[str, Any]:
    return {"state": triage.state, "note": triage.note}


class TriageDesk:
    """The triage use cases."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def get(self, alert_id: str) -> Triage:
        async with self._context.read() as conn:
            row = await store.triage_of(conn, alert_id)
        if row is None:
            raise NotFound(f"no alert {alert_id!r}")
        return _triage(row)

    async def of_many(self, alert_ids: Sequence[str]) -> dict[str, Triage]:
        """The triage of each alert of `alert_ids` that exists."""
        async with self._context.read() as conn:
            rows = await store.triages(conn, alert_ids)
        return {row["id"]: _triage(row) for row in rows}

    async def set(self, alert_id: str, state: str, note: str | None, *, actor: str) -> Triage:
        """Set the triage state of an alert (its id or a unique prefix), audited; returns the
        new triage. NotFound when no alert matches, InvalidRequest when several do."""
        checked = check_state(state)
        note = (note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE:
            raise InvalidRequest(f"a note holds at most {MAX_NOTE} characters")
        if checked == "false_positive" and note is None:
            raise InvalidRequest("a false positive needs a note saying why")
        now = self._context.clock.now()
        async with self._context.write() as conn:
            # An id or a unique prefix of one, as `alerts show` and `retry` take it.
            alert_id = await Alerts(self._context).resolve(conn, alert_id)
            row = await store.triage_of(conn, alert_id)
            if row is None:
                raise NotFound(f"no alert {alert_id!r}")
            # who and when are kept for every state, a reset to `new` included: the record
            # answers "who set this" without the audit log
            await store.set_triage(conn, alert_id, state=checked, note=note, by=actor, at=now)
            after = Triage(checked, note, actor, now)
            await record(
                conn,
                at=now,
                actor=actor,
                action="alert.triage",
                target=f"alert:{alert_id}",
                before=public(_triage(row)),
                after=public(after),
            )
        return after

    async def precision(self) -> dict[str, Precision]:
        """Per watchlist that has alerts: triaged and false-positive counts."""
        async with self._context.read() as conn:
            counts = await store.precision_counts(conn)
        return {name: Precision(name, triaged, fp) for name, (fp, triaged) in counts.items()}
