"""EventBridge Scheduler schedules of the template, fired by the local stack.

moto stores an ``AWS::Scheduler::Schedule`` but never fires it. :class:`Scheduler` does: for each
schedule of the translated template (SAM's ``ScheduleV2`` events become one) it computes the next
time from its ``ScheduleExpression`` — ``cron(min hour day-of-month month day-of-week year)`` in its
``ScheduleExpressionTimezone``, ``rate(N unit)`` or ``at(yyyy-mm-ddThh:mm:ss)`` — and starts the
target then (a state machine: ``StartExecution`` with the target's ``Input``; a function: an
asynchronous invoke). With ``every`` seconds (``vegskriv local --provisjonering-hvert N``) every
schedule fires every N seconds instead, so a nightly run can be watched without waiting for 02:00.

Cron fields take ``*``, ``?``, numbers, names (JAN, MON), ranges, lists and ``/`` steps; the
special ``L``, ``W`` and ``#`` are not supported locally (such a schedule is logged and skipped).
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger("vegskriv_local.schedules")

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # EventBridge: 1 = SUN … 7 = SAT
_RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def _field(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int] | None:
    """The values a cron field allows; None for ``?`` (the other day field decides)."""
    if text == "?":
        return None

    def value(token: str) -> int:
        if token.upper() in names:
            return names.index(token.upper()) + low
        if not token.isdigit() or not low <= int(token) <= high:
            raise ValueError(f"{token!r} is not in {low}-{high} (L, W and # are not supported locally)")
        return int(token)

    allowed: set[int] = set()
    for part in text.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (value(t) for t in span.split("-", 1))
        else:
            first = value(span)
            last = high if step else first
        allowed.update(range(first, last + 1, int(step) if step else 1))
    return allowed


@dataclass(frozen=True)
class Cron:
    minutes: set[int]
    hours: set[int]
    days: set[int] | None
    months: set[int]
    weekdays: set[int] | None  # 1 = Sunday
    years: set[int]
    zone: ZoneInfo

    @classmethod
    def parse(cls, body: str, timezone: str = "UTC") -> Cron:
        fields = body.split()
        if len(fields) != 6:
            raise ValueError(f"cron({body}) needs 6 fields (minutes hours day-of-month month day-of-week year)")
        minutes, hours, days, months, weekdays, years = fields
        parsed = cls(_field(minutes, 0, 59) or set(), _field(hours, 0, 23) or set(), _field(days, 1, 31),
                     _field(months, 1, 12, _MONTHS) or set(), _field(weekdays, 1, 7, _DAYS),
                     _field(years, 1970, 2199) or set(), ZoneInfo(timezone))
        if (parsed.days is None) == (parsed.weekdays is None):
            raise ValueError(f"cron({body}): exactly one of day-of-month and day-of-week must be ?")
        return parsed

    def _on(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days is not None:
            return day.day in self.days
        return self.weekdays is not None and (day.isoweekday() % 7) + 1 in self.weekdays

    def next_after(self, moment: datetime) -> datetime | None:
        """The first time after ``moment`` (aware) the expression names, in UTC; None if never again."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(366 * 5):
            if self._on(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone).astimezone(UTC)
                        if at > moment:
                            return at
            day += timedelta(days=1)
        return None


def next_time(expression: str, timezone: str | None, after: datetime) -> datetime | None:
    """When a Scheduler expression fires next after ``after`` (aware, any zone); None if never again."""
    match = re.fullmatch(r"(cron|rate|at)\((.*)\)", expression.strip())
    if not match:
        raise ValueError(f"{expression!r} is not cron(...), rate(...) or at(...)")
    kind, body = match.groups()
    if kind == "cron":
        return Cron.parse(body, timezone or "UTC").next_after(after)
    if kind == "rate":
        amount, _, unit = body.partition(" ")
        if unit not in _RATE_UNITS or not amount.isdigit() or int(amount) < 1:
            raise ValueError(f"rate({body}): expected a positive number and minute(s), hour(s) or day(s)")
        return after + timedelta(seconds=int(amount) * _RATE_UNITS[unit])
    at = datetime.fromisoformat(body).replace(tzinfo=ZoneInfo(timezone or "UTC")).astimezone(UTC)
    return at if at > after else None


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str
    timezone: str | None
    target_arn: str
    input: str


def schedules_of(scheduler: Any) -> list[Schedule]:
    """The enabled schedules moto's Scheduler holds (``scheduler``: its boto3 client); SAM made one of
    each ``ScheduleV2`` event, moto's CloudFormation resolved its expression and target."""
    found = []
    for page in scheduler.get_paginator("list_schedules").paginate():
        for summary in page["Schedules"]:
            schedule = scheduler.get_schedule(Name=summary["Name"], GroupName=summary["GroupName"])
            if schedule.get("State") == "DISABLED":
                continue
            target = schedule["Target"]
            found.append(Schedule(schedule["Name"], schedule["ScheduleExpression"],
                                  schedule.get("ScheduleExpressionTimezone"), target["Arn"],
                                  target.get("Input") or "{}"))
    return found


class Scheduler:
    """A daemon thread that fires the schedules at their times (or every ``every`` seconds)."""

    def __init__(self, schedules: list[Schedule], fire: Callable[[Schedule], None], every: float | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.fire, self.every, self.clock = fire, every, clock
        self.schedules: list[Schedule] = []
        for schedule in schedules:
            try:
                next_time(schedule.expression, schedule.timezone, clock())
            except ValueError as exc:
                log.warning("schedule %s not fired locally: %s", schedule.name, exc)
                continue
            self.schedules.append(schedule)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="schedules")
        self.fired: list[tuple[str, datetime]] = []

    def _next(self, schedule: Schedule, after: datetime) -> datetime | None:
        if self.every:
            return after + timedelta(seconds=self.every)
        return next_time(schedule.expression, schedule.timezone, after)

    def start(self) -> None:
        now = self.clock()
        for schedule in self.schedules:
            when = self._next(schedule, now)
            log.info("schedule %s (%s%s) fires next at %s", schedule.name,
                     f"every {self.every:g} s" if self.every else schedule.expression,
                     "" if self.every or not schedule.timezone else f" {schedule.timezone}",
                     when.isoformat(timespec="seconds") if when else "never")
        if self.schedules:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        now = self.clock()
        due = {s.name: self._next(s, now) for s in self.schedules}
        while not self._stop.is_set():
            pending = [(when, s) for s in self.schedules if (when := due[s.name]) is not None]
            if not pending:
                return
            when, schedule = min(pending, key=lambda p: p[0])
            if self._stop.wait(max(0.0, (when - self.clock()).total_seconds())):
                return
            try:
                self.fire(schedule)
                self.fired.append((schedule.name, self.clock()))
            except Exception:  # one failed start must not end the schedule
                log.exception("schedule %s could not start %s", schedule.name, schedule.target_arn)
            due[schedule.name] = self._next(schedule, max(when, self.clock()))


def start_target(client: Callable[[str], Any]) -> Callable[[Schedule], None]:
    """What firing a schedule does, by the target's service (boto3 clients from ``client``)."""

    def fire(schedule: Schedule) -> None:
        service = schedule.target_arn.split(":")[2]
        log.info("schedule %s → %s", schedule.name, schedule.target_arn)
        if service == "states":
            # Scheduler names each execution uniquely; moto would name every one "None" and refuse the second
            client("stepfunctions").start_execution(stateMachineArn=schedule.target_arn, input=schedule.input,
                                                    name=f"{schedule.name}-{uuid.uuid4()}")
        elif service == "lambda":
            client("lambda").invoke(FunctionName=schedule.target_arn, InvocationType="Event",
                                    Payload=schedule.input.encode())
        else:
            raise ValueError(f"target {schedule.target_arn}: only state machines and functions are fired locally")
    return fire

