"""What a Lambda function's cold start does not load: modules only some requests need are imported
where they are used (issue 9: cold import of the api function < 400 ms)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Heavy modules no cold request of the function needs, and what they cost when imported eagerly.
NOT_AT_INIT = {
    # jwt loads cryptography's backends; the workflow module pulls rights, locks and the stores.
    "api": ("jwt", "shapely", "lxml", "vegskriv.changesets.workflow", "vegskriv.changesets.validation"),
    "workflow": ("jwt", "shapely", "lxml"),
    "dispatcher": ("jwt", "shapely", "lxml"),
}


def _loaded_by_importing(function: str) -> set[str]:
    probe = ("import json, sys; import app; "
             "print(json.dumps(sorted(sys.modules)))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / function),
                                                         str(ROOT / "layers" / "vegskriv")]),
           "AWS_DEFAULT_REGION": "eu-north-1", "AWS_LAMBDA_FUNCTION_NAME": f"vegskriv-{function}",
           "POWERTOOLS_LOG_LEVEL": "ERROR"}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT / "functions" / function, env=env,
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("function", sorted(NOT_AT_INIT))
def test_cold_import_leaves_heavy_modules_for_the_requests_that_need_them(function: str) -> None:
    loaded = _loaded_by_importing(function)
    assert "vegskriv" in loaded  # the probe imported the handler
    assert sorted(m for m in NOT_AT_INIT[function] if m in loaded) == []
