"""Counts what AWS bills: API requests by service and operation, DynamoDB consumed capacity,
Lambda invocations and Step Functions state transitions.

The requests are counted from botocore's own event system on the session boto3 makes its clients
from (``vegskriv.aws`` uses ``boto3.client``/``boto3.resource``), so nothing in the package
changes. DynamoDB is asked for ``ReturnConsumedCapacity=TOTAL`` on every call that takes it.
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
OUTSIDE = ("", "")  # calls made outside any Lambda invocation: the bench itself, pollers, moto


@dataclass
class Usage:
    """Requests and consumed capacity, keyed by (function, step or path) → (service, operation)."""

    requests: Counter[tuple[tuple[str, str], str, str]] = field(default_factory=Counter)
    capacity: Counter[tuple[tuple[str, str], str]] = field(default_factory=Counter)  # DynamoDB only
    without_capacity: Counter[tuple[tuple[str, str], str]] = field(default_factory=Counter)

    def __sub__(self, other: Usage) -> Usage:
        return Usage(self.requests - other.requests, self.capacity - other.capacity,
                     self.without_capacity - other.without_capacity)

    def only(self, keep: Any) -> Usage:
        """The part made in invocations for which ``keep((function, what))`` is true."""
        return Usage(Counter({k: v for k, v in self.requests.items() if keep(k[0])}),
                     Counter({k: v for k, v in self.capacity.items() if keep(k[0])}),
                     Counter({k: v for k, v in self.without_capacity.items() if keep(k[0])}))

    def by_operation(self, service: str) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (_, svc, operation), n in self.requests.items():
            if svc == service:
                counts[operation] += n
        return dict(sorted(counts.items()))

    def capacity_by_operation(self) -> dict[str, float]:
        totals: Counter[str] = Counter()
        for (_, operation), units in self.capacity.items():
            totals[operation] += units
        return {k: round(v, 1) for k, v in sorted(totals.items())}

    def by_invocation(self, service: str) -> dict[str, dict[str, int]]:
        """Requests of one service per ``function what`` (e.g. ``WorkflowFunction effectuate``)."""
        result: dict[str, Counter[str]] = {}
        for ((function, what), svc, operation), n in self.requests.items():
            if svc == service:
                label = _ID.sub("{id}", f"{function} {what}".strip()) or "outside Lambda"
                result.setdefault(label, Counter())[operation] += n
        return {k: dict(sorted(v.items())) for k, v in sorted(result.items())}


class RequestCounter:
    """Hooks ``after-call`` (count) and ``before-parameter-build.dynamodb`` (ask for capacity) on a
    botocore session. Clients copy the session's handlers when they are created, so install it
    before the clients to count are made."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage = Usage()
        # A context variable, not a thread-local: the store's thread pool copies the caller's
        # context into its workers, so their requests count under the invocation too.
        self._where: contextvars.ContextVar[tuple[str, str]] = contextvars.ContextVar("where", default=OUTSIDE)
        self._installed: set[int] = set()

    def install(self, session: Any = None) -> None:
        """On ``session``; by default on boto3's default session and on the package's own
        (``vegskriv.aws.session``), which the functions' clients come from."""
        from vegskriv import aws

        for one in [session] if session else [boto3._get_default_session(), aws.session()]:
            botocore_session = one._session
            if id(botocore_session) in self._installed:
                continue
            events = botocore_session.get_component("event_emitter")
            events.register("before-parameter-build.dynamodb", self._ask_capacity, unique_id="bench-capacity")
            events.register("after-call", self._count, unique_id="bench-count")
            self._installed.add(id(botocore_session))

    @contextmanager
    def attributed_to(self, function: str, what: str) -> Iterator[None]:
        """Count this context's calls under (function, what) while the block runs."""
        token = self._where.set((function, what))
        try:
            yield
        finally:
            self._where.reset(token)

    def requests_in(self, where: tuple[str, str], service: str) -> int:
        """Requests to one service so far under ``where`` (cheap: no copy)."""
        with self._lock:
            return sum(n for (w, svc, _), n in self._usage.requests.items() if w == where and svc == service)

    def snapshot(self) -> Usage:
        with self._lock:
            return Usage(Counter(self._usage.requests), Counter(self._usage.capacity),
                         Counter(self._usage.without_capacity))

    @staticmethod
    def _ask_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _count(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        where = self._where.get()
        service, operation = model.service_model.service_name, model.name
        units = None
        if service == "dynamodb" and "ConsumedCapacity" in parsed:
            consumed = parsed["ConsumedCapacity"]  # one entry, or one per table for batch/transact calls
            units = sum(c.get("CapacityUnits", 0.0) for c in (consumed if isinstance(consumed, list)
                                                               else [consumed]))
        with self._lock:
            self._usage.requests[(where, service, operation)] += 1
            if units is not None:
                self._usage.capacity[(where, operation)] += units
            elif service == "dynamodb":
                self._usage.without_capacity[(where, operation)] += 1


def execution_history(stack: Any, name: str) -> list[dict[str, Any]]:
    """The whole Step Functions history of the execution called ``name`` (a changeset id)."""
    sfn = stack.client("stepfunctions")
    execution_arn = None
    for machine in stack.state_machine_arns.values():
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
            execution_arn = next((e["executionArn"] for e in page["executions"] if e["name"] == name),
                                 execution_arn)
    if execution_arn is None:
        raise RuntimeError(f"no execution named {name}")
    history: list[dict[str, Any]] = []
    token = None
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                         **({"nextToken": token} if token else {}))
        history += page["events"]
        token = page.get("nextToken")
        if not token:
            return history


def state_transitions(history: list[dict[str, Any]]) -> int:
    """What Step Functions (standard) bills: one transition per state entered."""
    return sum(1 for e in history if e["type"].endswith("StateEntered"))
