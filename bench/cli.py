"""Arguments, the list of sections and the run of the chosen ones."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench
from bench.e2e import section_e2e
from bench.e2e10k import E2E10K_DEFAULT, section_e2e10k
from bench.e2e_mixed import section_e2e_mixed
from bench.imports import section_imports
from bench.latency import section_latency
from bench.locks import section_locks
from bench.paths import ROOT
from bench.provisioning import section_provisioning
from bench.stack import Bench
from bench.validation import section_validation

DESCRIPTION = (bench.__doc__ or "").split("\n\n")[0]


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    run: Callable[[Bench], dict[str, Any]]
    needs_stack: bool = False
    default: bool = True  # False: runs only when named with --only


# Run in this order. The subprocess sections come first: a child's ru_maxrss starts from the
# parent's size on Linux, and the parent is small only until the local stack has been loaded.
SECTIONS: list[Section] = [
    Section("validation", "parse + validate throughput without AWS", section_validation),
    Section("imports", "cold import of each function module", section_imports),
    Section("e2e", "end to end on the local stack", section_e2e, needs_stack=True),
    Section("e2e-mixed", "a changeset shaped like real traffic (registrer, lukk, delvisOppdater)",
            section_e2e_mixed, needs_stack=True),
    Section("latency", "register / fremdrift latency", section_latency, needs_stack=True),
    Section("locks", "lock latency, wake-up on release, history per wait", section_locks, needs_stack=True),
    Section("e2e10k", "10,000 objects end to end (above the AWS payload limits)", section_e2e10k,
            needs_stack=True, default=E2E10K_DEFAULT),
    Section("provisioning", "nightly provisioning: FULL, 1 % churn, DELTA, FULL, naive overwrite (10k and N)",
            section_provisioning, default=False),
]


def _git_state() -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it (figures depend on it)."""
    def git(*cmd: str) -> str:
        out = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, check=False)
        return out.stdout.strip() if out.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line.strip()]
    return {"commit": git("rev-parse", "--short", "HEAD") or None, "changed_files": len(changed)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    names = [s.name for s in SECTIONS]
    shown = [s.name if s.default else f"{s.name} (opt-in)" for s in SECTIONS]
    p = argparse.ArgumentParser(prog="python -m bench", description=DESCRIPTION,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--only", action="append", choices=names, metavar="SECTION",
                   help=f"run only this section (repeatable): {', '.join(shown)}")
    p.add_argument("--objects", type=int, default=1000, help="objects in the end-to-end changeset")
    p.add_argument("--mixed-objects", type=int, default=1200, help="objects in the e2e-mixed changeset")
    p.add_argument("--validation-objects", type=int, default=10_000, help="objects in the validation changeset")
    p.add_argument("--validation-repeat", type=int, default=3, help="timed parse+validate runs (median)")
    p.add_argument("--register-requests", type=int, default=200)
    p.add_argument("--fremdrift-requests", type=int, default=500)
    p.add_argument("--import-runs", type=int, default=5)
    p.add_argument("--imports-against", metavar="REV",
                   help="imports: also time the api's import from a worktree of REV and from this tree in "
                        "same-minute pairs (3 × --import-runs, at least 15), and print the ratio")
    p.add_argument("--poll-interval", type=float, default=0.1, help="seconds between fremdrift polls (e2e)")
    p.add_argument("--e2e-timeout", type=float, default=600)
    p.add_argument("--lock-iterations", type=int, default=200, help="acquire/release and POST/DELETE rounds")
    p.add_argument("--resume-runs", type=int, default=10, help="lock removed → changeset resumes, repetitions")
    p.add_argument("--history-wait", type=float, default=6.0,
                   help="seconds a changeset waits with 1 s pauses before its history is counted")
    p.add_argument("--e2e10k-objects", type=int, default=10_000, help="objects in the e2e10k changeset")
    p.add_argument("--provisioning-n", type=int, default=100_000,
                   help="objects at the provider in the provisioning section (it also measures 10,000)")
    p.add_argument("--target", type=int, default=20000, help="parse+validate objects/s target (issue 9)")
    p.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    return p.parse_args(argv)


def chosen_sections(args: argparse.Namespace) -> list[Section]:
    """The sections named with --only, else the default ones, in run order."""
    return [s for s in SECTIONS if (s.name in args.only if args.only else s.default)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("vegskriv_local").setLevel(logging.ERROR)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"  # tests.conftest, imported for the fixtures, sets WARNING

    chosen = chosen_sections(args)
    bench = Bench(args)
    meta = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
            "platform": platform.platform(), "cpus": os.cpu_count(), "sections": [s.name for s in chosen],
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    meta["git"] = _git_state()
    meta["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    print(f"vegskriv bench — {meta['date']} — Python {meta['python']} — {meta['cpus']} CPUs — {meta['platform']}"
          f" — git {meta['git']['commit']} (+{meta['git']['changed_files']} changed files)"
          f" — load average {meta['loadavg_at_start'][0]}")
    began = time.perf_counter()
    sections: dict[str, Any] = {}
    failed: list[str] = []
    try:
        for i, section in enumerate(chosen):
            try:
                sections[section.name] = section.run(bench)
            except Exception as exc:  # one broken section must not hide the others' figures
                failed.append(section.name)
                sections[section.name] = {"error": f"{type(exc).__name__}: {exc}"}
                print(f"\n{section.title}: FAILED\n{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            if not any(s.needs_stack for s in chosen[i + 1:]):
                bench.stop_stack()  # nothing left needs it: free the CPU for the subprocess sections
    finally:
        bench.stop_stack()
    meta["total_s"] = round(time.perf_counter() - began, 1)
    print(f"\ntotal bench time {meta['total_s']} s")
    if args.json:
        payload = {"meta": meta, "stack": bench.results.get("stack", {}), "sections": sections}
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    if failed:
        print(f"failed sections: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
