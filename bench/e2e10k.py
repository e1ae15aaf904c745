"""Section ``e2e10k`` (opt-in): ``e2e`` with 10,000 objects and peak memory, on a stack with
``MAX_BODY_BYTES=20000000``; the body is above the AWS payload limits (see docs/benchmarks.md)."""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

from bench.e2e import print_billing, run_e2e
from bench.output import print_table, proc_status_mb
from bench.stack import Bench

E2E10K_BODY_LIMIT = 20_000_000
E2E10K_DEFAULT = False  # opt-in: see docs/benchmarks.md for its run time on 2 cores


def _reset_peak_rss() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux ≥ 4.0: clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _maxrss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def section_e2e10k(bench: Bench) -> dict[str, Any]:
    from vegskriv.local import apigw

    n = bench.args.e2e10k_objects
    stack = bench.stack(env={"MAX_BODY_BYTES": str(E2E10K_BODY_LIMIT)})
    # The local API Gateway refuses bodies over 10 MiB like API Gateway REST does; lift that for
    # this run only (the module's constant, in this process; nothing on disk changes).
    original_limit = apigw.MAX_PAYLOAD_BYTES
    apigw.MAX_PAYLOAD_BYTES = E2E10K_BODY_LIMIT
    marks: dict[str, Any] = {}

    def mark() -> None:  # just before the register POST, after the body is built
        marks["t_register"] = time.time()
        marks["ru_maxrss_before_mb"] = _maxrss_mb()
        marks["rss_before_mb"] = proc_status_mb("VmRSS")
        marks["vmhwm_reset"] = _reset_peak_rss()

    try:
        figures, rows = run_e2e(bench, stack, n, before_register=mark)
    except RuntimeError as exc:  # e.g. not finished within --e2e-timeout: print what is known
        began = marks.get("t_register", 0.0)
        steps = sorted((c for c in bench.invocations.between(began, time.time())
                        if c["function"] == "WorkflowFunction"), key=lambda c: c["start"])
        rows = [("NOT FINISHED", f"after {time.time() - began:,.0f} s", str(exc)[:110])]
        rows += [(f"  step {c['what']} (finished)", round(c["end"] - c["start"], 3), "s") for c in steps]
        rows += [("peak RSS, ru_maxrss before → now (whole bench process)",
                  f"{marks.get('ru_maxrss_before_mb')} → {_maxrss_mb()}", "MB"),
                 ("peak RSS since register (VmHWM reset at register)",
                  proc_status_mb("VmHWM") if marks.get("vmhwm_reset") else None, "MB")]
        print_table(f"End to end on the local stack: one changeset, {n:,} registrer objects — NOT FINISHED", rows)
        raise
    finally:
        apigw.MAX_PAYLOAD_BYTES = original_limit
    marks.pop("t_register", None)
    figures.update(marks)
    figures["ru_maxrss_after_mb"] = _maxrss_mb()
    figures["vmhwm_during_run_mb"] = proc_status_mb("VmHWM") if marks["vmhwm_reset"] else None
    figures["rss_after_mb"] = proc_status_mb("VmRSS")
    figures["max_body_bytes"] = E2E10K_BODY_LIMIT
    figures["lambda_sync_payload_limit_bytes"] = 6 * 1024 * 1024
    figures["api_gateway_rest_payload_limit_bytes"] = 10 * 1024 * 1024
    mb = figures["body_bytes"] / 1e6
    rows += [
        ("peak RSS, ru_maxrss before → after (whole bench process)",
         f"{figures['ru_maxrss_before_mb']} → {figures['ru_maxrss_after_mb']}", "MB"),
        ("peak RSS during the run (VmHWM reset at register)", figures["vmhwm_during_run_mb"],
         f"MB (RSS {figures['rss_before_mb']} MB at register, {figures['rss_after_mb']} MB after)"),
        ("NOTE: body above AWS limits", f"{mb:.1f} MB",
         "> 6 MB Lambda sync payload, > 10 MiB API Gateway REST; needs an S3 upload path (not built)"),
        ("  local stack run with", f"MAX_BODY_BYTES={E2E10K_BODY_LIMIT:,}",
         "and the local API Gateway's 10 MiB cap lifted"),
    ]
    print_table(f"End to end on the local stack: one changeset, {n:,} registrer objects "
                f"(above the AWS payload limits; local only)", rows)
    print_billing(figures["billed"], n)
    return figures
