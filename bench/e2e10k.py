"""Section ``e2e10k`` (opt-in): ``e2e`` with 10,000 objects and peak memory. The 11.6 MB body is
sent gzipped (about 1 MB) to a stack with ``MAX_BODY_BYTES`` at its 6 MB default, as a client
must send it to the deployed API (README "Large changesets: gzip and two-step upload")."""

from __future__ import annotations

import resource
import time
from pathlib import Path
from typing import Any

from bench.e2e import print_billing, run_e2e
from bench.output import print_table, proc_status_mb
from bench.stack import Bench

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
    from vegskriv.settings import Settings

    n = bench.args.e2e10k_objects
    stack = bench.stack()
    marks: dict[str, Any] = {}

    def mark() -> None:  # just before the register POST, after the body is built
        marks["t_register"] = time.time()
        marks["ru_maxrss_before_mb"] = _maxrss_mb()
        marks["rss_before_mb"] = proc_status_mb("VmRSS")
        marks["vmhwm_reset"] = _reset_peak_rss()

    try:
        figures, rows = run_e2e(bench, stack, n, before_register=mark, gzipped=True)
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
    marks.pop("t_register", None)
    figures.update(marks)
    figures["ru_maxrss_after_mb"] = _maxrss_mb()
    figures["vmhwm_during_run_mb"] = proc_status_mb("VmHWM") if marks["vmhwm_reset"] else None
    figures["rss_after_mb"] = proc_status_mb("VmRSS")
    figures["max_body_bytes"] = Settings.model_fields["max_body_bytes"].default
    figures["lambda_sync_payload_limit_bytes"] = 6 * 1024 * 1024
    figures["api_gateway_rest_payload_limit_bytes"] = 10 * 1024 * 1024
    mb = figures["body_bytes"] / 1e6
    rows += [
        ("peak RSS, ru_maxrss before → after (whole bench process)",
         f"{figures['ru_maxrss_before_mb']} → {figures['ru_maxrss_after_mb']}", "MB"),
        ("peak RSS during the run (VmHWM reset at register)", figures["vmhwm_during_run_mb"],
         f"MB (RSS {figures['rss_before_mb']} MB at register, {figures['rss_after_mb']} MB after)"),
        ("sent gzipped (Content-Encoding: gzip)", f"{mb:.1f} MB → {figures['sent_bytes'] / 1e6:.2f} MB",
         f"MAX_BODY_BYTES at its default, {figures['max_body_bytes']:,}; 6 MB Lambda, 10 MiB API Gateway"),
    ]
    print_table(f"End to end on the local stack: one changeset, {n:,} registrer objects, sent gzipped", rows)
    print_billing(figures["billed"], n)
    return figures
