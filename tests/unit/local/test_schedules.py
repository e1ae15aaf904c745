"""When the local stack fires a Scheduler expression: cron in its timezone (across DST), rate, at;
and the firing loop with a short interval."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from vegskriv.local.schedules import Schedule, Scheduler, next_time

NIGHTLY = "cron(0 2 * * ? *)"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(("after", "expected"), [
    (utc(2026, 1, 15, 0, 0), utc(2026, 1, 15, 1, 0)),    # winter: 02:00 Oslo is 01:00 UTC
    (utc(2026, 1, 15, 1, 0), utc(2026, 1, 16, 1, 0)),    # exactly then: the next night
    (utc(2026, 7, 1, 12, 0), utc(2026, 7, 2, 0, 0)),     # summer: 02:00 Oslo is 00:00 UTC
    (utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 1, 0)),   # the night clocks go forward: 02:00 does not exist
])
def test_the_nightly_expression_fires_at_two_oslo_time(after, expected) -> None:
    assert next_time(NIGHTLY, "Europe/Oslo", after) == expected


def test_weekdays_ranges_steps_and_names() -> None:
    # Mondays to Fridays at 06:30 and 18:30 UTC; 2026-01-17 is a Saturday.
    assert next_time("cron(30 6/12 ? * MON-FRI *)", None, utc(2026, 1, 16, 19, 0)) == utc(2026, 1, 19, 6, 30)
    assert next_time("cron(0 0 1 JAN,JUL ? 2027)", "UTC", utc(2026, 3, 1)) == utc(2027, 1, 1)
    assert next_time("cron(0 0 1 1 ? 2020)", "UTC", utc(2026, 3, 1)) is None
    # EventBridge numbers days 1 = SUN … 7 = SAT
    assert next_time("cron(0 12 ? * 1 *)", "UTC", utc(2026, 1, 14)) == utc(2026, 1, 18, 12)


def test_rate_and_at() -> None:
    assert next_time("rate(5 minutes)", None, utc(2026, 1, 1)) == utc(2026, 1, 1, 0, 5)
    assert next_time("at(2026-06-01T02:00:00)", "Europe/Oslo", utc(2026, 1, 1)) == utc(2026, 6, 1, 0, 0)
    assert next_time("at(2026-06-01T02:00:00)", "Europe/Oslo", utc(2026, 7, 1)) is None


@pytest.mark.parametrize("expression", ["cron(0 2 * * * *)", "cron(0 2 ? * ? *)", "cron(0 25 * * ? *)",
                                        "cron(0 2 L * ? *)", "rate(0 minutes)", "daily"])
def test_expressions_it_cannot_fire_are_refused(expression) -> None:
    with pytest.raises(ValueError):
        next_time(expression, "UTC", utc(2026, 1, 1))


def test_every_n_seconds_fires_the_target_repeatedly_and_stops() -> None:
    fired = threading.Semaphore(0)
    targets: list[str] = []

    def fire(schedule: Schedule) -> None:
        targets.append(schedule.target_arn)
        fired.release()

    nightly = Schedule("WorkflowNightly", NIGHTLY, "Europe/Oslo", "arn:aws:states:::stateMachine:x", "{}")
    broken = Schedule("Broken", "cron(0 2 L * ? *)", None, "arn:aws:states:::stateMachine:y", "{}")
    scheduler = Scheduler([nightly, broken], fire, every=0.05)
    assert [s.name for s in scheduler.schedules] == ["WorkflowNightly"]  # the broken one is logged, skipped
    scheduler.start()
    try:
        assert all(fired.acquire(timeout=5) for _ in range(3))
    finally:
        scheduler.stop()
    count = len(targets)
    assert set(targets) == {"arn:aws:states:::stateMachine:x"}
    threading.Event().wait(0.2)
    assert len(targets) == count  # stopped means stopped
