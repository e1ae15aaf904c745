"""Section ``imports``: cold import time of each Lambda function module (``functions/<name>/app.py``)
in a fresh interpreter, an approximation of Lambda init; and for the api function, init plus its
first two requests (a POST register and a GET fremdrift) against moto, since moving work from
init to the first request is not a win by itself."""

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


FIRST_REQUESTS_PROBE = """
import json, sys, time, types
sys.path.insert(0, {function_dir!r})
sys.path.insert(1, {layer!r})
register = json.loads({register!r})
context = types.SimpleNamespace(function_name="vegskriv-api", memory_limit_in_mb=1024, aws_request_id="r1",
                                invoked_function_arn="arn:aws:lambda:eu-north-1:123456789012:function:vegskriv-api")
began, began_cpu = time.perf_counter(), time.process_time()
import app
imported, imported_cpu = time.perf_counter(), time.process_time()
answer = app.lambda_handler(register, context)
registered = time.perf_counter()
assert answer["statusCode"] < 300, answer
changeset_id = json.loads(answer["body"])[0]["src"].rsplit("/", 1)[-1]
progress = dict(register, httpMethod="GET", path="/rest/v3/endringssett/" + changeset_id + "/fremdrift", body=None,
                headers={{k: v for k, v in register["headers"].items() if k != "Content-Type"}})
answered = app.lambda_handler(progress, context)
done, done_cpu = time.perf_counter(), time.process_time()
print(json.dumps({{"init": imported - began, "register": registered - imported, "fremdrift": done - registered,
                  "init_cpu": imported_cpu - began_cpu, "requests_cpu": done_cpu - imported_cpu,
                  "statuses": [answer["statusCode"], answered["statusCode"]], "modules": len(sys.modules)}}))
"""


def _first_requests(env: dict[str, str], runs: int) -> dict[str, Any]:
    """Init, then a POST register and a GET fremdrift through the api handler, in a fresh interpreter
    per run, against the tables of a local stack (moto served on 127.0.0.1)."""
    import logging

    from vegskriv.local.stack import LocalStack

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request

    register = (ROOT / "events" / "api_register.json").read_text(encoding="utf-8")
    code = FIRST_REQUESTS_PROBE.format(function_dir=str(ROOT / "functions" / "api"), layer=str(LAYER),
                                       register=register)
    samples: list[dict[str, Any]] = []
    with LocalStack(moto_port=0, serve_api=False, run_pollers=False) as stack:
        host, port = stack._moto_server.get_host_and_port()
        env = {**env, **stack.functions["ApiFunction"].environment, "AWS_ENDPOINT_URL": f"http://{host}:{port}",
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               # Lambda with Tracing: Active: LAMBDA_TASK_ROOT turns Powertools' tracing on, and the trace
               # header is set per invocation (the SDK sends its segments to 127.0.0.1:2000, UDP)
               "LAMBDA_TASK_ROOT": str(ROOT / "functions" / "api"),
               "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                 cwd=str(ROOT / "functions" / "api"), check=False)
            if out.returncode != 0:
                raise RuntimeError(f"the api's first requests failed:\n{out.stderr[-2000:]}")
            samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    figures: dict[str, Any] = {"statuses": samples[-1]["statuses"], "modules_loaded": samples[-1]["modules"]}
    for key in ("init", "register", "fremdrift", "init_cpu", "requests_cpu"):
        figures[f"{key}_median_ms"] = round(statistics.median(s[key] for s in samples) * 1000, 1)
    figures["total_median_ms"] = round(statistics.median(s["init"] + s["register"] + s["fremdrift"]
                                                         for s in samples) * 1000, 1)
    return figures


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
    if "error" not in figures["api"]:
        first = figures["api_first_requests"] = _first_requests(_function_environment("api"), runs)
        print_table("The api function cold, tracing on as on AWS: init, then its first two requests "
                    "(fresh interpreter, moto)", [
            ("init (import functions/api/app.py)", first["init_median_ms"],
             f"ms (median of {runs}; CPU {first['init_cpu_median_ms']} ms)"),
            ("first request: POST /rest/v3/endringssett", first["register_median_ms"],
             f"ms (answered {first['statuses'][0]})"),
            ("second request: GET .../fremdrift", first["fremdrift_median_ms"],
             f"ms (answered {first['statuses'][1]}; CPU of both requests {first['requests_cpu_median_ms']} ms)"),
            ("init + both requests", first["total_median_ms"], f"ms (median of {runs}; "
                                                                f"{first['modules_loaded']} modules at the end)")])
    broken = [n for n in FUNCTIONS if "error" in figures[n]]
    if broken:
        raise RuntimeError(f"could not import: {', '.join(broken)} (figures for the others are above)")
    return figures
