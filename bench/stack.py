"""The local stack shared by the sections that need it, its HTTP client and the invocation record."""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench.billing import RequestCounter
from bench.objects import NETWORK
from tests.support import client as support

TERMINAL = support.TERMINAL


class Invocations:
    """Records every in-process Lambda invocation of the stack (function, step/path, wall times),
    and tells the request counter which invocation a thread's AWS calls belong to."""

    def __init__(self, counter: RequestCounter) -> None:
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._counter = counter

    def install(self, runtime: Any) -> None:
        original = runtime.invoke

        def invoke(spec: Any, event: Any) -> Any:
            what = (event.get("step") or event.get("path") or "") if isinstance(event, dict) else ""
            began = time.time()
            try:
                with self._counter.attributed_to(spec.logical_id, what):
                    return original(spec, event)
            finally:
                ended = time.time()
                with self._lock:
                    self.records.append({"function": spec.logical_id, "what": what, "start": began,
                                         "end": ended})

        runtime.invoke = invoke

    def between(self, start: float, end: float) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.records if r["start"] >= start and r["end"] <= end]


class Client(support.Client):
    """The test suite's client, with a timeout for large changesets and registration of JSON text
    (the bench measures the body it sends and builds it only once)."""

    def __init__(self, base_url: str, user: str, roles: list[str]) -> None:
        super().__init__(base_url, user, tuple(roles), client_name="bench")

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.session.request(method, self.base + path, timeout=300, **kwargs)

    def register_text(self, body: str) -> str:
        r = self.request("POST", "/rest/v3/endringssett", data=body)
        if r.status_code != 201:
            raise RuntimeError(f"register answered {r.status_code}: {r.text[:500]}")
        return str(r.headers["Location"].rsplit("/", 1)[1])

    def start_ok(self, changeset_id: str) -> None:
        r = self.start(changeset_id)
        if r.status_code != 202:
            raise RuntimeError(f"start answered {r.status_code}: {r.text[:500]}")


@dataclass
class Bench:
    args: argparse.Namespace
    results: dict[str, Any] = field(default_factory=dict)
    _stack: Any = None
    counter: RequestCounter = field(default_factory=RequestCounter)
    invocations: Invocations = field(init=False)
    last_startup_s: float | None = None
    _stack_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.invocations = Invocations(self.counter)

    def stack(self, env: dict[str, str] | None = None) -> Any:
        """The running local stack, started with ``env`` on top of the bench's defaults. Only one
        LocalStack can run per process (moto state is global), so asking for another environment
        stops the running one first."""
        wanted = {"POWERTOOLS_LOG_LEVEL": "ERROR", **(env or {})}
        if self._stack is not None and self._stack_env != wanted:
            self.stop_stack()
        if self._stack is None:
            from vegskriv import aws
            from vegskriv.local.stack import LocalStack

            began = time.perf_counter()
            self._stack = LocalStack(port=0, env=wanted).start()
            # The counter hooks the session boto3 makes clients from (moto swaps in a new default
            # session); clients copy its handlers when made, so the package's cached ones go.
            self.counter.install()
            aws.reset()
            self._stack_env = wanted
            self.invocations.install(self._stack.runtime)
            startup = round(time.perf_counter() - began, 3)
            self.results.setdefault("stack", {}).setdefault("startup_s", startup)  # the first start
            self.results["stack"].setdefault("starts", []).append({"env": wanted, "startup_s": startup})
            self.last_startup_s = startup
            admin = Client(self._stack.url, "benchadmin", ["9_system_admin"])
            r = admin.request("PUT", "/rest/v3/vegnett/veglenkesekvenser",
                              data=json.dumps({"veglenkesekvenser": NETWORK}))
            if r.status_code != 200:
                raise RuntimeError(f"loading the network answered {r.status_code}: {r.text[:500]}")
        return self._stack

    def stop_stack(self) -> None:
        if self._stack is not None:
            self._stack.stop()
            self._stack = None
