"""What a Lambda function's cold start does not load: modules only some requests need are imported
where they are used (issue 9: cold import of the api function < 400 ms)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Heavy modules no cold request of the function needs, and what they cost when imported eagerly.
# aws_xray_sdk (~0.15 s) only when tracing is on (on AWS, at init as before); Powertools' OpenAPI models
# (~0.1 s) only with /openapi.json or /swagger.
NOT_AT_INIT = {
    # jwt loads cryptography's backends; the workflow module pulls rights, locks and the stores.
    # The catalog (~15 ms) loads where a catalog is read; email.policy and its header parsers (~4 ms)
    # only for a binary sent from a web form.
    "api": ("jwt", "shapely", "lxml", "vegskriv.changesets.workflow", "vegskriv.changesets.validation",
            "aws_xray_sdk", "aws_lambda_powertools.event_handler.openapi.models", "vegskriv.catalog",
            "email.policy",
            # The other contexts' routes are included when first asked for (vegskriv.api.app.LATER).
            "vegskriv.services", "vegskriv.provisioning", "vegskriv.api.reading", "vegskriv.api.ui",
            "vegskriv.api.rights", "vegskriv.api.system_status", "vegskriv.api.oidc", "vegskriv.api.upload"),
    "workflow": ("jwt", "shapely", "lxml", "aws_xray_sdk"),
    "dispatcher": ("jwt", "shapely", "lxml", "aws_xray_sdk"),
    "authorizer": ("boto3", "aws_xray_sdk"),
}


def _loaded_by_importing(function: str, then: str = "", **env_vars: str) -> set[str]:
    probe = ("import json, sys; import app; " + then +
             "print(json.dumps(sorted(sys.modules)))")
    return set(_probe(function, probe, **env_vars))


def _probe(function: str, probe: str, **env_vars: str) -> Any:
    """Run ``probe`` in a fresh interpreter as the function's Lambda would; its last line, as JSON."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / function),
                                                         str(ROOT / "layers" / "vegskriv")]),
           "AWS_DEFAULT_REGION": "eu-north-1", "AWS_LAMBDA_FUNCTION_NAME": f"vegskriv-{function}",
           "POWERTOOLS_LOG_LEVEL": "ERROR", **env_vars}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT / "functions" / function, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("function", sorted(NOT_AT_INIT))
def test_cold_import_leaves_heavy_modules_for_the_requests_that_need_them(function: str) -> None:
    loaded = _loaded_by_importing(function)
    assert "vegskriv" in loaded  # the probe imported the handler
    assert sorted(m for m in NOT_AT_INIT[function] if m in loaded) == []


def test_on_lambda_with_tracing_the_handler_is_traced_from_init() -> None:
    """On AWS (LAMBDA_TASK_ROOT set, tracing not disabled) the Tracer is made at init, as Powertools
    does it (moving it to the first request would only move its cost), and the invocation runs
    inside its capture_lambda_handler."""
    invoke = ("import types; at_init = 'aws_xray_sdk' in sys.modules; "
              f"event = json.load(open({str(ROOT / 'events' / 'api_health.json')!r})); "
              "context = types.SimpleNamespace(function_name='vegskriv-api', memory_limit_in_mb=1024, "
              "invoked_function_arn='arn:aws:lambda:eu-north-1:123456789012:function:vegskriv-api', "
              "aws_request_id='r1'); "
              "assert app.lambda_handler(event, context)['statusCode'] == 200 and at_init; ")
    loaded = _loaded_by_importing("api", then=invoke, LAMBDA_TASK_ROOT=str(ROOT / "functions" / "api"),
                                  POWERTOOLS_TRACE_DISABLED="false", AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR",
                                  _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;"
                                                   "Parent=53995c3f42cd8ad8;Sampled=1",
                                  AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:9")  # nothing listens: the segment is lost
    assert "aws_xray_sdk.core" in loaded
    assert "aws_xray_sdk.ext.botocore.patch" in loaded  # the AWS calls are traced
    assert "sqlite3" not in loaded  # X-Ray's default patches everything it supports


def test_api_init_runs_no_garbage_collection_and_freezes_what_it_made() -> None:
    """What init makes lives as long as the process: collecting while it is made frees nothing and
    walks everything, and a request's collections should not walk it either (gc.freeze)."""
    found = _probe("api", "import gc, json; started = []; "
                          "gc.callbacks.append(lambda phase, info: phase == 'start' and started.append(info)); "
                          "import app; gc.callbacks.clear(); "
                          "print(json.dumps({'collections': started, 'on': gc.isenabled(), "
                          "'frozen': gc.get_freeze_count()}))")
    # at most one young collection, while app.py itself is compiled (before its first line runs)
    assert [c["generation"] for c in found["collections"]] in ([], [0])
    assert found["on"]
    assert found["frozen"] > 10_000  # the modules, classes and functions init made


def test_api_init_leaves_a_paused_collector_paused() -> None:
    """The local stack imports the handler in a thread while another may be inside gc_paused()."""
    assert _probe("api", "import gc, json; gc.disable(); import app; print(json.dumps(gc.isenabled()))") is False


def _answer(method: str, path: str) -> tuple[int, Any, str]:
    """A cold api function's answer to one request that needs no token or AWS."""
    event = {"httpMethod": method, "path": path, "headers": {}, "body": None, "requestContext": {}}
    return _probe("api", "import json, types; import app; "
                         "context = types.SimpleNamespace(function_name='vegskriv-api', memory_limit_in_mb=1024, "
                         "invoked_function_arn='arn:aws:lambda:eu-north-1:123456789012:function:vegskriv-api', "
                         f"aws_request_id='r1'); answer = app.lambda_handler({event!r}, context); "
                         "print(json.dumps([answer['statusCode'], answer.get('headers', {}), answer['body']]))")


def test_a_cold_function_routes_a_context_included_later() -> None:
    # Without the provisioning router included before routing, the verb would be a 404.
    status, _, body = _answer("DELETE", "/rest/v1/konsumenter")
    assert (status, json.loads(body)["message"]) == (405, "DELETE er ikke tillatt på /rest/v1/konsumenter; "
                                                          "bruk GET, POST")


def test_a_cold_function_documents_every_context() -> None:
    status, _, body = _answer("GET", "/openapi.json")
    paths = json.loads(body)["paths"]
    assert status == 200
    for path in ("/rest/v3/endringssett", "/rest/v1/konsumenter", "/rest/v1/tjenesteeiere",
                 "/rest/v3/vegobjekter/{type_id}", "/rest/v1/systemstatus", "/rest/v3/rettigheter/meg"):
        assert path in paths

