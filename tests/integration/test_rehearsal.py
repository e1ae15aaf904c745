"""The deploy rehearsal (scripts/rehearse_deploy.py, run by `make test` before pytest) must fail
when the layer lacks a runtime dependency, and must see the environment as `sam local` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.rehearsal import rehearsal_module
from vegskriv.local.template import Template

ROOT = Path(__file__).resolve().parents[2]


rehearsal = rehearsal_module()


@pytest.fixture(scope="module")
def built() -> tuple[str, Path]:
    try:
        python = rehearsal.find_python312()
    except rehearsal.RehearsalError as exc:
        pytest.skip(str(exc))
    deps = next((d for d in sorted(rehearsal.CACHE.glob("*")) if (d / ".complete").exists()), None)
    if deps is None:
        pytest.skip("no built layer: `make rehearse` (part of `make test`) builds it")
    return python, deps


def test_a_layer_without_pyjwt_fails_the_import_check(built: tuple[str, Path], tmp_path: Path) -> None:
    python, deps = built
    authorizer = ROOT / "functions" / "authorizer"
    runtime = str(deps / "runtime")
    rehearsal.import_check(python, authorizer, [str(rehearsal.LAYER_SOURCE), str(deps / "layer"), runtime])
    # The same layer less PyJWT, as a pip install that forgot it would leave it.
    partial = tmp_path / "layer"
    partial.mkdir()
    for entry in (deps / "layer").iterdir():
        if not entry.name.lower().startswith(("jwt", "pyjwt")):
            (partial / entry.name).symlink_to(entry)
    with pytest.raises(rehearsal.RehearsalError, match="No module named 'jwt'"):
        rehearsal.import_check(python, authorizer, [str(rehearsal.LAYER_SOURCE), str(partial), runtime])


def test_variables_the_template_does_not_declare_are_dropped_as_sam_local_does() -> None:
    env = rehearsal.sam_environment({"TABLE": "from-template"}, {"TABLE": "from-file", "EXTRA": "x"},
                                    "fn", 128, 3, "app.lambda_handler")
    assert env["TABLE"] == "from-file"
    assert "EXTRA" not in env


def test_env_file_must_be_honoured_by_sam_and_name_every_resource(tmp_path: Path) -> None:
    template = Template(ROOT / "template.yaml")
    assert rehearsal.env_file_overrides(template)["CHANGESETS_TABLE"] == "vegskriv-ChangesetsTable"
    broken = tmp_path / "env.json"
    broken.write_text(json.dumps({"Parameters": {"NOT_IN_TEMPLATE": "x"}}), encoding="utf-8")
    with pytest.raises(rehearsal.RehearsalError) as err:
        rehearsal.env_file_overrides(template, broken)
    assert "NOT_IN_TEMPLATE: not declared" in str(err.value)
    assert "CHANGESETS_TABLE: missing" in str(err.value)
