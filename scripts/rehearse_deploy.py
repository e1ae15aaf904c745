"""Deploy rehearsal: every function's handler, run under Python 3.12 with only the built layer and boto3.

    python scripts/rehearse_deploy.py            # build (cached), start moto, invoke every function
    python scripts/rehearse_deploy.py --find-python   # print the python3.12 it would use

1. Builds the layer's dependencies with the recipe ``sam build`` runs (``make dependencies`` of
   ``layers/vegskriv/Makefile``: ``requirements.txt`` from manylinux wheels for CPython 3.12, for this
   machine's architecture) into ``.aws-sam/rehearsal/<hash>``, cached by a hash of the requirements
   and the Makefile; the package itself is used in place. boto3 goes into a separate directory, as
   the Lambda runtime provides it.
2. Starts the local stack's moto (``LocalStack`` with a moto port) in this process.
3. For each function of ``template.yaml`` starts ``python3.12 -I -S scripts/rehearsal_invoke.py``:
   nothing from the dev venv is importable, only the function's directory, the layer and boto3.
   The environment is what ``sam local invoke --env-vars events/env.local.json`` gives a function
   (template variables, overridden by the file only where the template declares them), pointed at
   moto. Each function gets its ``events/`` samples and the result's shape is checked.

Exits non-zero with the failing function, its error and its log when anything is off.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import logging
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAYER_SOURCE = ROOT / "layers" / "vegskriv"
REQUIREMENTS = LAYER_SOURCE / "requirements.txt"
MAKEFILE = LAYER_SOURCE / "Makefile"  # what `sam build` runs for the layer (BuildMethod: makefile)
EVENTS = ROOT / "events"
ENV_FILE = EVENTS / "env.local.json"
RUNNER = Path(__file__).resolve().parent / "rehearsal_invoke.py"
CACHE = ROOT / ".aws-sam" / "rehearsal"
BOTO3 = "boto3>=1.34"  # what the python3.12 Lambda runtime ships
TOKEN_PLACEHOLDER = "<run: vegskriv token --user olanor --role 0_bruker_fagdata>"


class RehearsalError(Exception):
    pass


# --------------------------------------------------------------------------- python 3.12


def find_python312() -> str:
    """A working python3.12: $PYTHON312, python3.12 on PATH, else pyenv's versions."""
    candidates = [os.environ.get("PYTHON312", ""), "python3.12"]
    pyenv_roots = {os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")}
    with contextlib.suppress(OSError):  # no pyenv
        pyenv_roots.add(subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False).stdout.strip())
    for root in sorted(r for r in pyenv_roots if r):
        candidates += sorted(glob.glob(f"{root}/versions/3.12*/bin/python3.12"), reverse=True)
    candidates += ["/usr/local/bin/python3.12", "/usr/bin/python3.12"]
    for candidate in filter(None, candidates):
        try:
            # a pyenv shim exists on PATH even when it cannot run 3.12, so ask the interpreter itself
            answer = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 12), "
                                     "sys.executable)"], capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        ok, _, executable = answer.stdout.strip().partition(" ")
        if answer.returncode == 0 and ok == "True":
            return executable
    raise RehearsalError("no Python 3.12 found (the Lambda runtime is python3.12). Install one (e.g. "
                         "`pyenv install 3.12` or your distribution's python3.12) "
                         "or set PYTHON312=/path/to/python3.12.")


# --------------------------------------------------------------------------- the layer


def platform_tag() -> str:
    # The wheels must run here, so this machine's architecture; template.yaml deploys arm64,
    # for which `sam build` fetches the aarch64 wheels of the same requirements.
    machine = {"arm64": "aarch64", "amd64": "x86_64"}.get(platform.machine().lower(), platform.machine().lower())
    return f"manylinux2014_{machine}"


def _pip_install(target: Path, requirements: list[str]) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--platform", platform_tag(), "--only-binary=:all:", "--python-version", "3.12",
               "--implementation", "cp", "--target", str(target), *requirements]
    answer = subprocess.run(command, capture_output=True, text=True, check=False)
    if answer.returncode != 0:
        raise RehearsalError(f"building the layer failed: {' '.join(command)}\n{answer.stdout}{answer.stderr}")


def _make_dependencies(python: str, target: Path) -> None:
    """The layer's dependencies by the Makefile ``sam build`` runs, into ``target``."""
    command = ["make", "-s", "-C", str(LAYER_SOURCE), "dependencies", f"ARTIFACTS_DIR={target}",
               f"PLATFORM={platform_tag()}", f"PYTHON={python}"]
    answer = subprocess.run(command, capture_output=True, text=True, check=False)
    if answer.returncode != 0:
        raise RehearsalError(f"building the layer failed: {' '.join(command)}\n{answer.stdout}{answer.stderr}")


def build_dependencies(python: str | None = None) -> Path:
    """``<dir>/layer`` (requirements.txt) and ``<dir>/runtime`` (boto3), cached by their hash."""
    recipe = REQUIREMENTS.read_bytes() + MAKEFILE.read_bytes()
    key = hashlib.sha256(recipe + f"|{platform_tag()}|{BOTO3}".encode()).hexdigest()[:16]
    built = CACHE / key
    if (built / ".complete").exists():
        return built
    partial = CACHE / f"{key}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    print(f"rehearsal: building the layer's dependencies into {built} (first run only) …", flush=True)
    _make_dependencies(python or find_python312(), partial / "artifacts")
    (partial / "artifacts" / "python").rename(partial / "layer")
    (partial / "artifacts").rmdir()
    _pip_install(partial / "runtime", [BOTO3])
    (partial / ".complete").touch()
    for stale in CACHE.iterdir():  # layers of earlier requirements
        if stale != partial:
            shutil.rmtree(stale, ignore_errors=True)
    partial.rename(built)
    return built


# --------------------------------------------------------------------------- one function


def sam_environment(declared: dict[str, str], overrides: dict[str, str], function_name: str,
                    memory: int, timeout: int, handler: str) -> dict[str, str]:
    """What `sam local invoke --env-vars` sets: the fixed AWS_* variables, then each variable the
    template declares, overridden by the file. Variables the template does not declare are dropped."""
    env = {
        "AWS_SAM_LOCAL": "true", "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory), "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
        "AWS_LAMBDA_FUNCTION_HANDLER": handler, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "eu-north-1", "AWS_DEFAULT_REGION": "eu-north-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    }
    env.update({name: overrides.get(name, value) for name, value in declared.items()})
    return env


def invoke(python: str, sys_path: list[str], env: dict[str, str], handler: str, function_name: str,
           memory: int, timeout: int, events: list[Any]) -> list[Any]:
    job = {"sys_path": sys_path, "handler": handler, "function_name": function_name, "memory": memory,
           "timeout": timeout, "events": events}
    # Only what Lambda would have: no PYTHONPATH, no VIRTUAL_ENV, no user site (-I), no site-packages (-S).
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    answer = subprocess.run([python, "-I", "-S", str(RUNNER)], input=json.dumps(job), capture_output=True,
                            text=True, env={**base, **env}, timeout=120, check=False)
    lines = answer.stdout.strip().splitlines()
    outcome = json.loads(lines[-1]) if lines else {"error": f"no answer (exit {answer.returncode})"}
    if "error" in outcome:
        raise RehearsalError(f"{function_name}: {outcome['error']}\n{outcome.get('traceback', '')}"
                             f"--- log ---\n{answer.stderr[-4000:]}")
    return list(outcome["results"])


def import_check(python: str, function_dir: Path, layer_paths: list[str]) -> None:
    """Import a function's module with only ``layer_paths`` (raises RehearsalError if that fails)."""
    invoke(python, [str(function_dir), *layer_paths], {"AWS_SAM_LOCAL": "true", "AWS_REGION": "eu-north-1"},
           "app.lambda_handler", function_dir.name, 128, 10, [])


# --------------------------------------------------------------------------- what each sample must give

Check = Callable[[Any], str | None]


def _status(expected: int) -> Check:
    return lambda r: None if r.get("statusCode") == expected else f"statusCode {r.get('statusCode')} ≠ {expected}"


def _allow(r: Any) -> str | None:
    effects = [s.get("Effect") for s in r.get("policyDocument", {}).get("Statement", [])]
    if effects != ["Allow"] or r.get("context", {}).get("user") != "olanor":
        return f"not an Allow policy for olanor: {r}"
    return None


SAMPLES: dict[str, list[tuple[str, Check]]] = {
    "ApiFunction": [("api_health.json", _status(200)), ("api_register.json", _status(201))],
    "AuthorizerFunction": [("authorizer_token.json", _allow)],
    "DispatcherFunction": [("dispatcher_sqs.json",
                            lambda r: None if r == {"batchItemFailures": []} else f"failures: {r}")],
    "DeliveryFunction": [("delivery_sqs.json",
                          lambda r: None if r == {"batchItemFailures": []} else f"failures: {r}")],
    "WorkflowFunction": [("workflow_validate.json", lambda r: None if "next" in r else f"no next step: {r}")],
    "JanitorFunction": [("janitor_execution_aborted.json",
                         lambda r: None if "handling" in r else f"no handling: {r}")],
    "ProvisioningFunction": [("provisioning_plan.json",
                              lambda r: None if r == {"runs": []} else f"not an empty plan: {r}")],
}


def load_event(name: str, token: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8").replace(TOKEN_PLACEHOLDER, token))


def _names_resource(node: Any, resources: dict[str, Any]) -> bool:
    if isinstance(node, dict):
        if "Ref" in node:
            return node["Ref"] in resources
        return "Fn::GetAtt" in node or any(_names_resource(v, resources) for v in node.values())
    return isinstance(node, list) and any(_names_resource(v, resources) for v in node)


def env_file_overrides(template: Any, path: Path = ENV_FILE) -> dict[str, str]:
    """An env-vars file's variables, after checking SAM would honour each of them and that it names
    every variable the template fills from a resource (SAM local cannot resolve those)."""
    overrides: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["Parameters"]
    declared: set[str] = set()
    from_resources: set[str] = set()
    resources = template.translated["Resources"]  # SAM's translation: Globals merged, intrinsics left
    for lid in template.logical_ids("AWS::Lambda::Function"):
        raw = (resources[lid]["Properties"].get("Environment") or {}).get("Variables") or {}
        declared |= set(raw)
        from_resources |= {name for name, value in raw.items() if _names_resource(value, resources)}
    problems = [f"{name}: not declared in template.yaml, so sam local ignores it" for name in overrides
                if name not in declared]
    problems += [f"{name}: missing (template.yaml fills it from a resource)" for name in sorted(from_resources)
                 if name not in overrides]
    if problems:
        raise RehearsalError(f"{path.name}:\n  " + "\n  ".join(problems))
    return overrides


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rehearse(python: str) -> list[str]:
    from vegskriv.auth import issue_dev_token
    from vegskriv.local.stack import LocalStack

    began = time.monotonic()
    deps = build_dependencies(python)
    report = [f"layer dependencies ready in {time.monotonic() - began:.1f}s ({deps.relative_to(ROOT)})"]
    port = free_port()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto server's access log
    with LocalStack(ROOT / "template.yaml", moto_port=port, serve_api=False, run_pollers=False) as stack:
        # SAM copies layers/vegskriv as is into the layer's python/ next to the dependencies; using
        # it in place keeps its bytecode cache warm between runs.
        layer = [str(LAYER_SOURCE), str(deps / "layer"), str(deps / "runtime")]
        overrides = {**env_file_overrides(stack.template), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
        token = issue_dev_token("olanor", ["0_bruker_fagdata"])
        missing = sorted(set(stack.functions) - set(SAMPLES))
        if missing:
            raise RehearsalError(f"no events/ sample for {', '.join(missing)} (add one to SAMPLES)")
        unused = sorted({p.name for p in EVENTS.glob("*.json")} - {ENV_FILE.name}
                        - {name for samples in SAMPLES.values() for name, _ in samples})
        if unused:
            raise RehearsalError(f"events/ samples the rehearsal does not run: {', '.join(unused)}")

        def run(lid: str, spec: Any) -> str:
            started = time.monotonic()
            env = sam_environment(spec.environment, overrides, spec.name, spec.memory_size, spec.timeout,
                                  spec.handler)
            samples = SAMPLES[lid]
            results = invoke(python, [str(spec.code_dir), *layer], env, spec.handler, spec.name,
                             spec.memory_size, spec.timeout, [load_event(name, token) for name, _ in samples])
            for (name, check), result in zip(samples, results, strict=True):
                problem = check(result)
                if problem:
                    raise RehearsalError(f"{lid} with events/{name}: {problem}")
            return f"{lid}: {', '.join(name for name, _ in samples)} ok ({time.monotonic() - started:.1f}s)"

        # Each function in its own process, as on Lambda; two at a time (they mostly wait on moto).
        with ThreadPoolExecutor(max_workers=2) as pool:
            report += list(pool.map(run, stack.functions, stack.functions.values()))
    report.append(f"deploy rehearsal passed in {time.monotonic() - began:.1f}s (Python 3.12: {python})")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--find-python", action="store_true", help="print the python3.12 to use and exit")
    parser.add_argument("--python", help="python3.12 to use (default: found on PATH or through pyenv)")
    args = parser.parse_args(argv)
    try:
        python = args.python or find_python312()
        if args.find_python:
            print(python)
            return 0
        for line in rehearse(python):
            print(f"rehearsal: {line}", flush=True)
    except RehearsalError as exc:
        print(f"{'' if args.find_python else 'rehearsal FAILED: '}{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(LAYER_SOURCE))  # the dev venv's vegskriv (moto stack, dev tokens)
    sys.exit(main())
