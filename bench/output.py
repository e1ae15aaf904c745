"""Tables and summary statistics for the figures the sections print."""

from __future__ import annotations

import math
import statistics
from datetime import datetime
from pathlib import Path
from typing import Any

Rows = list[tuple[str, Any, str]]


def print_table(title: str, rows: Rows) -> None:
    """One section's figures as an aligned table: metric | value | unit."""
    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    cells = [(m, fmt(v), u) for m, v, u in rows]
    w0 = max([len("metric"), *(len(c[0]) for c in cells)])
    w1 = max([len("value"), *(len(c[1]) for c in cells)])
    w2 = max([len("unit"), *(len(c[2]) for c in cells)])
    rule = f"+-{'-' * w0}-+-{'-' * w1}-+-{'-' * w2}-+"
    print(f"\n{title}")
    print(rule)
    print(f"| {'metric':<{w0}} | {'value':>{w1}} | {'unit':<{w2}} |")
    print(rule)
    for m, v, u in cells:
        print(f"| {m:<{w0}} | {v:>{w1}} | {u:<{w2}} |")
    print(rule, flush=True)


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency_summary(samples: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in samples]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "max_ms": round(max(ms), 2), "mean_ms": round(statistics.fmean(ms), 2),
            "min_ms": round(min(ms), 2)}


def iso_to_epoch(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def proc_status_mb(field_name: str) -> float | None:
    """A memory figure of this process image from /proc/self/status (Linux), in MB. VmHWM is the
    peak resident set; unlike ru_maxrss it is not inherited from the parent across fork+exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field_name}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None
