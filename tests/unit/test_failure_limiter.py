"""The failed-sign-in limiter: per key, a sliding window, Retry-After until the oldest
failure leaves it; a success forgives the user, not the client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.clock import FrozenClock
from monitor.web.limits import FailureLimiter

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_a_key_is_blocked_at_the_limit_until_its_oldest_failure_leaves_the_window() -> None:
    clock = FrozenClock(NOW)
    gate = FailureLimiter(clock, limit=3, window=timedelta(minutes=5))
    for _ in range(2):
        gate.failed("client:a", "user:ann")
        clock.advance(timedelta(minutes=1))
    assert gate.retry_after("client:a") is None
    gate.failed("client:a", "user:ann")
    assert gate.retry_after("client:a") == 180  # the first failure leaves at 12:05
    assert gate.retry_after("client:b", "user:ann") == 180  # another client, same user
    assert gate.retry_after("client:b", "user:bob") is None
    clock.advance(timedelta(minutes=3))
    assert gate.retry_after("client:a") is None


def test_a_success_forgives_the_user_but_not_the_client() -> None:
    gate = FailureLimiter(FrozenClock(NOW), limit=2)
    gate.failed("client:a", "user:ann")
    gate.failed("client:a", "user:ann")
    gate.succeeded("user:ann")
    assert gate.retry_after("user:ann") is None
    assert gate.retry_after("client:a") == 300
