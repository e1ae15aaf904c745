"""Section ``latency``: p50/p95/max of ``POST /rest/v3/endringssett`` (2 objects) and
``GET .../fremdrift``, sequential, one HTTP client."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.objects import build_objects, changeset
from bench.output import Rows, latency_summary, print_table
from bench.stack import Bench, Client


def section_latency(bench: Bench) -> dict[str, Any]:
    stack = bench.stack()
    client = Client(stack.url, "benchlatency", ["0_bruker_fagdata"])
    body = json.dumps(changeset(build_objects(2, seed=7)))
    warmup = 5

    def timed(fn: Callable[[], Any], count: int) -> list[float]:
        for _ in range(warmup):
            fn()
        samples = []
        for _ in range(count):
            began = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - began)
        return samples

    def handler_medians(start: float, end: float) -> dict[str, float]:
        """Median time inside each in-process handler (the rest is HTTP + API Gateway emulation)."""
        by_function: dict[str, list[float]] = {}
        for c in bench.invocations.between(start, end):
            by_function.setdefault(c["function"], []).append(c["end"] - c["start"])
        return {k: round(statistics.median(v) * 1000, 2) for k, v in sorted(by_function.items())}

    ids: list[str] = []
    t0 = time.time()
    register = timed(lambda: ids.append(client.register_text(body)), bench.args.register_requests)
    t1 = time.time()
    target = ids[-1]
    fremdrift = timed(lambda: client.fremdrift(target), bench.args.fremdrift_requests)
    t2 = time.time()
    figures = {"register": {**latency_summary(register), "handler_median_ms": handler_medians(t0, t1)},
               "fremdrift": {**latency_summary(fremdrift), "handler_median_ms": handler_medians(t1, t2)},
               "warmup_requests": warmup}
    rows: Rows = []
    for name, label in (("register", "POST /rest/v3/endringssett (2 objects)"),
                        ("fremdrift", "GET /rest/v3/endringssett/{id}/fremdrift")):
        s = figures[name]
        rows += [(f"{label}: n", s["n"], "requests"), (f"{label}: p50", s["p50_ms"], "ms"),
                 (f"{label}: p95", s["p95_ms"], "ms"), (f"{label}: max", s["max_ms"], "ms")]
        rows += [(f"  of which in {fn} (median)", ms, "ms") for fn, ms in s["handler_median_ms"].items()]
    print_table("Latency, sequential, one client (HTTP on 127.0.0.1, authorizer + api in-process)", rows)
    return figures
