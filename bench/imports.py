"""Section ``imports``: cold import time of each Lambda function module (``functions/<name>/app.py``)
in a fresh interpreter, an approximation of Lambda init."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from typing import Any

from bench import ENV_AT_START
from bench.output import Rows, print_table
from bench.paths import LAYER, ROOT

FUNCTIONS = ("api", "authorizer", "dispatcher", "workflow")

IMPORT_PROBE = """
import importlib, json, sys, time
sys.path.insert(0, {function_dir!r})
sys.path.insert(1, {layer!r})
began, began_cpu = time.perf_counter(), time.process_time()
importlib.import_module("app")
elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
print(json.dumps({{"seconds": elapsed, "cpu_seconds": cpu, "modules": len(sys.modules)}}))
"""


def _function_environment(name: str) -> dict[str, str]:
    """The environment ``sam local invoke --env-vars events/env.local.json`` gives the function (the
    deploy rehearsal checks that file against the template), plus what the Lambda runtime sets."""
    env = {"POWERTOOLS_LOG_LEVEL": "ERROR", **ENV_AT_START}
    given = json.loads((ROOT / "events" / "env.local.json").read_text(encoding="utf-8"))
    env.update({k: str(v) for k, v in {**given.get("Parameters", {}), **given.get(name, {})}.items()})
    env.update({"AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "eu-north-1"),
                "AWS_REGION": env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "eu-north-1")),
                "AWS_LAMBDA_FUNCTION_NAME": f"vegskriv-{name}", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def section_imports(bench: Any) -> dict[str, Any]:
    runs = bench.args.import_runs
    figures: dict[str, Any] = {"runs": runs}
    rows: Rows = []
    for name in FUNCTIONS:
        code = IMPORT_PROBE.format(function_dir=str(ROOT / "functions" / name), layer=str(LAYER))
        env = _function_environment(name)
        samples, cpu_samples, modules = [], [], 0
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                 cwd=str(ROOT / "functions" / name), check=False)
            if out.returncode != 0:
                break
            probe = json.loads(out.stdout.strip().splitlines()[-1])
            samples.append(probe["seconds"])
            cpu_samples.append(probe["cpu_seconds"])
            modules = probe["modules"]
        if out.returncode != 0:  # report it and go on with the other functions
            last = (out.stderr.strip().splitlines() or ["?"])[-1]
            figures[name] = {"error": last}
            rows.append((f"functions/{name}/app.py", "FAILED", last[:100]))
            print(f"importing functions/{name}/app.py failed:\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        figures[name] = {"median_ms": round(statistics.median(samples) * 1000, 1),
                         "min_ms": round(min(samples) * 1000, 1), "max_ms": round(max(samples) * 1000, 1),
                         "cpu_median_ms": round(statistics.median(cpu_samples) * 1000, 1),
                         "modules_loaded": modules}
        rows.append((f"functions/{name}/app.py", figures[name]["median_ms"],
                     f"ms (median of {runs}; min {figures[name]['min_ms']}, max {figures[name]['max_ms']}; "
                     f"CPU {figures[name]['cpu_median_ms']} ms; {modules} modules)"))
    print_table("Cold import of each function module (fresh interpreter, ≈ Lambda init)", rows)
    broken = [n for n in FUNCTIONS if "error" in figures[n]]
    if broken:
        raise RuntimeError(f"could not import: {', '.join(broken)} (figures for the others are above)")
    return figures
