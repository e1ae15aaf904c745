"""Section ``imports``: cold import time of each Lambda function module (``functions/<name>/app.py``)
in a fresh interpreter, an approximation of Lambda init; and for the api function, init plus its
first two requests (a POST register and a GET fremdrift) against moto, since moving work from
init to the first request is not a win by itself, then a request to a context whose router is
included on first use (``vegskriv.api.app.LATER``), what that costs once.

Two environments, both printed: **Lambda** (the issue's figure) is the deploy rehearsal's:
``python3.12 -I -S`` with only the function's folder, the built layer and boto3 importable
(``scripts/rehearse_deploy.py``); **dev venv** is this interpreter with its site-packages, which hold
what Lambda does not (aws-sam-cli brings pyOpenSSL and awscrt, which botocore imports when present).
A third row imports the api with no bytecode for the layer at all, what it costs when the layer
ships without ``.pyc`` files (Lambda's file system is read-only, so nothing compiled is kept), as it
did before ``layers/vegskriv/Makefile`` compiled it."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import ENV_AT_START
from bench.output import Rows, print_table
from bench.paths import LAYER, ROOT
from tests.support.rehearsal import rehearsal_module

FUNCTIONS = ("api", "authorizer", "dispatcher", "workflow")

IMPORT_PROBE = """
import importlib, json, sys, time
sys.path[:0] = {paths!r}
began, began_cpu = time.perf_counter(), time.process_time()
importlib.import_module("app")
elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
print(json.dumps({{"seconds": elapsed, "cpu_seconds": cpu, "modules": len(sys.modules)}}))
"""


@dataclass
class Interpreter:
    """How a probe is started: the command before ``-c CODE`` and what goes first on ``sys.path``
    (after the function's folder)."""

    name: str
    command: list[str]
    paths: list[str]
    note: str = ""
    scratch: list[Any] = field(default_factory=list)  # temporary folders to remove at the end

    def run(self, function: str, code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.command, "-c", code], capture_output=True, text=True, env=env,
                              cwd=str(ROOT / "functions" / function), check=False)

    def sys_path(self, function: str) -> list[str]:
        return [str(ROOT / "functions" / function), *self.paths]


def _interpreters() -> tuple[list[Interpreter], list[str]]:
    """Lambda's (if a python3.12 is found and the layer builds), with and without bytecode for the
    layer, then the dev venv's; and why an environment is missing."""
    dev = Interpreter("dev venv", [sys.executable], [str(LAYER)],
                      f"Python {sys.version_info.major}.{sys.version_info.minor}, the dev venv's site-packages")
    rehearsal = rehearsal_module()
    try:
        python = rehearsal.find_python312()
        deps = rehearsal.build_dependencies(python)
    except rehearsal.RehearsalError as exc:
        return [dev], [f"no Lambda-like environment: {exc}"]
    # As the rehearsal runs it: the project's package in place, then the layer's dependencies and boto3
    # as pip installed them (with .pyc files); -I -S: no site-packages, no PYTHON* variables.
    lam = Interpreter("Lambda", [python, "-I", "-S"],
                      [str(LAYER), str(deps / "layer"), str(deps / "runtime")],
                      "python3.12 -I -S, only the function, the built layer and boto3")
    bare = _layer_without_bytecode(deps)
    cold = Interpreter("Lambda, layer without .pyc", [python, "-I", "-S", "-B"],
                       [str(bare), str(deps / "layer-source-only"), str(deps / "runtime")],
                       "the same, the layer without bytecode (as sam build's python3.12 builder shipped it "
                       "before layers/vegskriv/Makefile): every module compiled at import", scratch=[bare])
    return [lam, cold, dev], []


def _layer_without_bytecode(deps: Path) -> Path:
    """The layer's dependencies without ``__pycache__`` (cached next to them) and a fresh copy of
    the project's package (returned; removed at the end)."""
    no_pyc = shutil.ignore_patterns("__pycache__", "*.pyc")
    done = deps / "layer-source-only" / ".complete"
    if not done.exists():
        shutil.rmtree(done.parent, ignore_errors=True)
        shutil.copytree(deps / "layer", done.parent, ignore=no_pyc, symlinks=True)
        done.touch()
    package = Path(tempfile.mkdtemp(prefix="vegskriv-layer-"))
    shutil.copytree(LAYER / "vegskriv", package / "vegskriv", ignore=no_pyc)
    return package


def _function_environment(name: str, root: Path = ROOT) -> dict[str, str]:
    """The environment ``sam local invoke --env-vars events/env.local.json`` gives the function (the
    deploy rehearsal checks that file against the template): the template's own values, such as
    ``PYDANTIC_DISABLE_PLUGINS``, then the file's, plus what the Lambda runtime sets. Logging stays at
    ERROR, as in every figure before."""
    from vegskriv.local.template import load_template_file

    variables = load_template_file(root / "template.yaml")["Globals"]["Function"]["Environment"]["Variables"]
    env = {**{k: v for k, v in variables.items() if isinstance(v, str) and v}, **ENV_AT_START,
           "POWERTOOLS_LOG_LEVEL": "ERROR"}
    given = json.loads((root / "events" / "env.local.json").read_text(encoding="utf-8"))
    env.update({k: str(v) for k, v in {**given.get("Parameters", {}), **given.get(name, {})}.items()})
    env.update({"AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "eu-north-1"),
                "AWS_REGION": env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "eu-north-1")),
                "AWS_LAMBDA_FUNCTION_NAME": f"vegskriv-{name}", "PYTHONDONTWRITEBYTECODE": "1"})
    return env


FIRST_REQUESTS_PROBE = """
import json, sys, time, types
sys.path[:0] = {paths!r}
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
modules = len(sys.modules)
rights = app.lambda_handler(dict(progress, path="/rest/v3/rettigheter/meg"), context)
print(json.dumps({{"init": imported - began, "register": registered - imported, "fremdrift": done - registered,
                  "later_context": time.perf_counter() - done,
                  "init_cpu": imported_cpu - began_cpu, "requests_cpu": done_cpu - imported_cpu,
                  "statuses": [answer["statusCode"], answered["statusCode"], rights["statusCode"]],
                  "modules": modules}}))
"""


def _first_requests(interpreters: list[Interpreter], env: dict[str, str], runs: int) -> dict[str, dict[str, Any]]:
    """Init, then a POST register and a GET fremdrift through the api handler, in a fresh interpreter
    per run, against the tables of a local stack (moto served on 127.0.0.1)."""
    import logging

    from vegskriv.local.stack import LocalStack

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request

    register = (ROOT / "events" / "api_register.json").read_text(encoding="utf-8")
    found: dict[str, dict[str, Any]] = {}
    with LocalStack(moto_port=0, serve_api=False, run_pollers=False) as stack:
        host, port = stack._moto_server.get_host_and_port()
        env = {**env, **stack.functions["ApiFunction"].environment, "AWS_ENDPOINT_URL": f"http://{host}:{port}",
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               # Lambda with Tracing: Active: LAMBDA_TASK_ROOT turns Powertools' tracing on, and the trace
               # header is set per invocation (the SDK sends its segments to 127.0.0.1:2000, UDP)
               "LAMBDA_TASK_ROOT": str(ROOT / "functions" / "api"),
               "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
        for interpreter in interpreters:
            code = FIRST_REQUESTS_PROBE.format(paths=interpreter.sys_path("api"), register=register)
            samples: list[dict[str, Any]] = []
            for _ in range(runs):
                out = interpreter.run("api", code, env)
                if out.returncode != 0:
                    raise RuntimeError(f"the api's first requests failed ({interpreter.name}):\n{out.stderr[-2000:]}")
                samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
            figures: dict[str, Any] = {"statuses": samples[-1]["statuses"], "modules_loaded": samples[-1]["modules"]}
            for key in ("init", "register", "fremdrift", "later_context", "init_cpu", "requests_cpu"):
                figures[f"{key}_median_ms"] = round(statistics.median(s[key] for s in samples) * 1000, 1)
            figures["total_median_ms"] = round(statistics.median(s["init"] + s["register"] + s["fremdrift"]
                                                                 for s in samples) * 1000, 1)
            found[interpreter.name] = figures
    return found


def _import_figures(interpreter: Interpreter, name: str, runs: int) -> dict[str, Any]:
    code = IMPORT_PROBE.format(paths=interpreter.sys_path(name))
    env = _function_environment(name)
    samples, cpu_samples, modules = [], [], 0
    for _ in range(runs):
        out = interpreter.run(name, code, env)
        if out.returncode != 0:  # reported, and the other functions go on
            print(f"importing functions/{name}/app.py failed ({interpreter.name}):\n{out.stderr[-2000:]}",
                  file=sys.stderr)
            return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
        probe = json.loads(out.stdout.strip().splitlines()[-1])
        samples.append(probe["seconds"])
        cpu_samples.append(probe["cpu_seconds"])
        modules = probe["modules"]
    return {"median_ms": round(statistics.median(samples) * 1000, 1), "min_ms": round(min(samples) * 1000, 1),
            "max_ms": round(max(samples) * 1000, 1), "cpu_median_ms": round(statistics.median(cpu_samples) * 1000, 1),
            "modules_loaded": modules}


def _against(rev: str, interpreter: Interpreter, runs: int) -> dict[str, Any]:
    from bench.import_pairs import paired_imports

    pairs = max(3 * runs, 15)
    found = paired_imports(rev, interpreter.command, interpreter.paths[1:],
                           lambda root: _function_environment("api", root), pairs)
    print_table(f"functions/api/app.py against {rev}, {interpreter.name}: {pairs} same-minute pairs, random "
                "order in each", [
                    (f"{rev}: import", found["before_median_ms"], f"ms (median; min {found['before_min_ms']})"),
                    ("this tree: import", found["now_median_ms"], f"ms (median; min {found['now_min_ms']})"),
                    ("this tree / " + rev, found["ratio"], "(median of the pairs' ratios)")])
    return found


def section_imports(bench: Any) -> dict[str, Any]:
    runs = bench.args.import_runs
    interpreters, missing = _interpreters()
    figures: dict[str, Any] = {"runs": runs, "environments": {i.name: i.note for i in interpreters}}
    rows: Rows = []
    try:
        for name in FUNCTIONS:
            for interpreter in interpreters:
                if interpreter.name.endswith(".pyc") and name != "api":
                    continue  # the api's row says what bytecode is worth; the others would say the same
                one = _import_figures(interpreter, name, runs)
                figures.setdefault(interpreter.name, {})[name] = one
                label = f"functions/{name}/app.py, {interpreter.name}"
                if "error" in one:
                    rows.append((label, "FAILED", one["error"][:100]))
                    continue
                rows.append((label, one["median_ms"],
                             f"ms (median of {runs}; min {one['min_ms']}, max {one['max_ms']}; "
                             f"CPU {one['cpu_median_ms']} ms; {one['modules_loaded']} modules)"))
        for line in missing:
            rows.append(("Lambda", "–", line[:120]))
        print_table("Cold import of each function module (fresh interpreter, ≈ Lambda init). "
                    + "; ".join(f"{i.name}: {i.note}" for i in interpreters), rows)
        usable = [i for i in interpreters if "error" not in figures[i.name]["api"] and not i.name.endswith(".pyc")]
        if usable:
            first = figures["api_first_requests"] = _first_requests(usable, _function_environment("api"), runs)
            table: Rows = []
            for env_name, one in first.items():
                table += [
                    (f"{env_name}: init (import functions/api/app.py)", one["init_median_ms"],
                     f"ms (median of {runs}; CPU {one['init_cpu_median_ms']} ms)"),
                    (f"{env_name}: first request: POST /rest/v3/endringssett", one["register_median_ms"],
                     f"ms (answered {one['statuses'][0]})"),
                    (f"{env_name}: second request: GET .../fremdrift", one["fremdrift_median_ms"],
                     f"ms (answered {one['statuses'][1]}; CPU of both requests {one['requests_cpu_median_ms']} ms)"),
                    (f"{env_name}: init + both requests", one["total_median_ms"],
                     f"ms (median of {runs}; {one['modules_loaded']} modules at the end)"),
                    (f"{env_name}: then GET /rest/v3/rettigheter/meg", one["later_context_median_ms"],
                     f"ms (answered {one['statuses'][2]}; its router is included on first use)")]
            print_table("The api function cold, tracing on as on AWS: init, then its first two requests "
                        "(fresh interpreter, moto)", table)
        if bench.args.imports_against:
            figures["api_against"] = _against(bench.args.imports_against, interpreters[0], runs)
    finally:
        for interpreter in interpreters:
            for scratch in interpreter.scratch:
                shutil.rmtree(scratch, ignore_errors=True)
    broken = sorted({f"{n} ({i.name})" for i in interpreters for n, one in figures[i.name].items() if "error" in one})
    if broken:
        raise RuntimeError(f"could not import: {', '.join(broken)} (figures for the others are above)")
    return figures
