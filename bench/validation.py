"""Section ``validation``: parse (pydantic) and validate (catalog + network rules) of a large
changeset without AWS, in a fresh interpreter (``python -m bench.validation N REPEAT``), with
peak memory."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.objects import CATALOG_VERSION, NETWORK, build_objects, changeset
from bench.output import Rows, print_table, proc_status_mb
from bench.paths import ROOT


def validation_child(n: int, repeat: int) -> dict[str, Any]:
    """Runs in its own process: build, parse, validate; the figures."""
    import gc
    import resource
    import tracemalloc

    began = time.perf_counter()
    from vegskriv.catalog import default_catalog
    from vegskriv.changesets.models import Endringssett, parse_endringssett
    from vegskriv.changesets.validation import Context, validate
    from vegskriv.network import Veglenkesekvens

    import_s = time.perf_counter() - began
    began = time.perf_counter()
    catalog = default_catalog()
    catalog_s = time.perf_counter() - began
    network = {s["veglenkesekvensId"]: Veglenkesekvens.model_validate(s) for s in NETWORK}
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    objects = build_objects(n)
    text = json.dumps(changeset(objects))
    del objects

    # Timed as the api handler and the workflow steps run it: one region with the cyclic collector
    # paused (api.app and changesets.workflow), then the document and result dropped and the
    # collector back on. Freeing is part of the figure: a request pays it too.
    from vegskriv.changesets.models import gc_paused

    parse_runs, validate_runs, free_runs = [], [], []
    doc = result = None
    errors = warnings = 0
    for _ in range(repeat):
        with gc_paused():
            began = time.perf_counter()
            doc = parse_endringssett(text)
            parsed = time.perf_counter()
            result = validate(doc, Context(catalog=catalog, current_catalog_version=CATALOG_VERSION,
                                           network=network))
            validated = time.perf_counter()
            errors = sum(len(o.feil) for o in result.vegobjekter) + len(result.feil)
            warnings = sum(len(o.advarsler) for o in result.vegobjekter) + len(result.advarsler)
            counted = time.perf_counter()
            doc = result = None
        gc.collect(0)  # what the first allocation after the region would do
        freed = time.perf_counter()
        parse_runs.append(parsed - began)
        validate_runs.append(validated - parsed)
        free_runs.append(freed - counted)

    # The floor under parse: the same JSON read into plain Python objects by pydantic's own JSON
    # reader, no models (what one pass of model_validate_json cannot go below).
    import pydantic_core

    decode_runs = []
    for _ in range(repeat):
        with gc_paused():
            began = time.perf_counter()
            plain = pydantic_core.from_json(text)
            decode_runs.append(time.perf_counter() - began)
        del plain
    rss_peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # read before the diagnostic passes
    vmhwm_mb = proc_status_mb("VmHWM")

    # Diagnostic: parse on its own, outside a paused region (the figure before 2026-12-05): its own
    # pause ends when it returns, and the collector's next pass traverses the whole new document.
    doc = result = None
    gc.collect()
    began = time.perf_counter()
    doc = parse_endringssett(text)
    gc.collect(0)  # what the next allocation does once the count is past the threshold
    parse_alone_s = time.perf_counter() - began

    # A separate pass under tracemalloc (it slows Python down, so it is not timed).
    doc = result = None
    tracemalloc.start()
    doc = Endringssett.model_validate_json(text)
    _, parse_peak = tracemalloc.get_traced_memory()
    result = validate(doc, Context(catalog=catalog, current_catalog_version=CATALOG_VERSION, network=network))
    _, both_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    parse_s, validate_s = statistics.median(parse_runs), statistics.median(validate_runs)
    free_s = statistics.median(free_runs)
    total_s = parse_s + validate_s + free_s
    return {"objects": n, "repeat": repeat, "json_bytes": len(text.encode()),
            "import_s": round(import_s, 3), "catalog_load_s": round(catalog_s, 3),
            "parse_s": round(parse_s, 4), "validate_s": round(validate_s, 4),
            "parse_runs_s": [round(x, 4) for x in parse_runs],
            "validate_runs_s": [round(x, 4) for x in validate_runs],
            "json_decode_s": round(statistics.median(decode_runs), 4),
            "parse_objects_per_s": round(n / parse_s, 1), "validate_objects_per_s": round(n / validate_s, 1),
            "free_s": round(free_s, 4), "total_s": round(total_s, 4),
            "both_objects_per_s": round(n / total_s, 1),
            "errors": errors, "warnings": warnings,
            "parse_alone_s": round(parse_alone_s, 4),
            "vmhwm_mb": vmhwm_mb,
            "ru_maxrss_mb_after_setup": round(rss_before_kb / 1024, 1),
            "ru_maxrss_mb_peak": round(rss_peak_kb / 1024, 1),
            "tracemalloc_peak_mb_parse": round(parse_peak / 2**20, 1),
            "tracemalloc_peak_mb_parse_and_validate": round(both_peak / 2**20, 1)}


def section_validation(bench: Any) -> dict[str, Any]:
    n, repeat = bench.args.validation_objects, bench.args.validation_repeat
    out = subprocess.run([sys.executable, "-m", "bench.validation", str(n), str(repeat)], cwd=ROOT,
                         capture_output=True, text=True, check=False,
                         env={**os.environ, "POWERTOOLS_LOG_LEVEL": "ERROR"})
    if out.returncode != 0:
        raise RuntimeError(f"validation subprocess failed:\n{out.stderr[-3000:]}")
    f = json.loads(out.stdout.strip().splitlines()[-1])
    target = bench.args.target
    f["target_objects_per_s"] = target
    f["target_met"] = f["both_objects_per_s"] >= target
    if f["errors"]:
        print(f"WARNING: the generated changeset has {f['errors']} validation errors", file=sys.stderr)
    rows: Rows = [
        ("objects", n, f"({f['json_bytes'] / 1e6:.1f} MB JSON; median of {repeat} runs)"),
        ("parse (parse_endringssett: JSON → models)", f["parse_s"], "s"),
        ("  throughput", f["parse_objects_per_s"], "objects/s"),
        ("  floor: the JSON alone, no models (pydantic_core.from_json)", f["json_decode_s"],
         f"s ({n / f['json_decode_s']:,.0f} objects/s)"),
        ("validate (vegskriv.changesets.validation.validate)", f["validate_s"], "s"),
        ("  throughput", f["validate_objects_per_s"], "objects/s"),
        ("free the document and result (+ the collector's next pass)", f["free_s"], "s"),
        ("parse + validate + free", f["total_s"], "s"),
        ("  throughput", f["both_objects_per_s"], "objects/s"),
        (f"  target ≥ {target:,} objects/s", "MET" if f["target_met"] else "NOT MET", ""),
        ("validation errors / warnings in result", f"{f['errors']} / {f['warnings']}", ""),
        ("catalog load (default_catalog, once)", f["catalog_load_s"], "s"),
        ("diagnostic: parse alone, outside the paused region", f["parse_alone_s"],
         "s (its collector pass traverses the new document)"),
        ("peak RSS (ru_maxrss), whole process", f["ru_maxrss_mb_peak"], "MB"),
        ("  ru_maxrss after imports + catalog", f["ru_maxrss_mb_after_setup"], "MB"),
        ("peak RSS (VmHWM, this process image only)", f["vmhwm_mb"], "MB"),
        ("tracemalloc peak, parse", f["tracemalloc_peak_mb_parse"], "MB"),
        ("tracemalloc peak, parse + validate", f["tracemalloc_peak_mb_parse_and_validate"], "MB"),
    ]
    print_table(f"Validation without AWS ({n:,} objects, fresh interpreter)", rows)
    return f


if __name__ == "__main__":
    print(json.dumps(validation_child(int(sys.argv[1]), int(sys.argv[2]))))
