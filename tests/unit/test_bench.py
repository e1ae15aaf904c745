"""The benchmark package's request counter and command line (the bench itself is not run here)."""

import boto3
from moto import mock_aws

from bench.billing import RequestCounter
from bench.cli import chosen_sections, parse_args


def test_counter_counts_dynamodb_requests_by_operation_and_capacity() -> None:
    session = boto3.Session(region_name="eu-north-1")
    counter = RequestCounter()
    counter.install(session)
    with mock_aws():
        ddb = session.client("dynamodb")
        ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        with counter.attributed_to("WorkflowFunction", "effectuate"):
            ddb.put_item(TableName="t", Item={"pk": {"S": "a"}})
            ddb.get_item(TableName="t", Key={"pk": {"S": "a"}})
            ddb.get_item(TableName="t", Key={"pk": {"S": "b"}})

    usage = counter.snapshot().only(lambda where: where == ("WorkflowFunction", "effectuate"))
    assert usage.by_operation("dynamodb") == {"GetItem": 2, "PutItem": 1}
    assert usage.capacity_by_operation() == {"GetItem": 1.0, "PutItem": 1.0}  # moto: 0.5 a read, 1 a write
    assert counter.snapshot().by_operation("dynamodb")["CreateTable"] == 1  # outside any invocation


def test_cli_runs_only_the_named_section() -> None:
    assert [s.name for s in chosen_sections(parse_args(["--only", "e2e"]))] == ["e2e"]
    assert "e2e10k" not in [s.name for s in chosen_sections(parse_args([]))]


def test_imports_against_a_revision_pairs_the_two_trees_and_removes_its_worktree() -> None:
    import subprocess
    import sys

    from bench.import_pairs import paired_imports
    from bench.imports import _function_environment
    from bench.paths import ROOT

    def worktrees() -> str:
        return subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True).stdout

    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode != 0:
        import pytest

        pytest.skip("not a git checkout")
    found = paired_imports("HEAD", [sys.executable], [], lambda root: _function_environment("api", root), pairs=2)
    assert found["pairs"] == 2 and found["before_median_ms"] > 0 and found["now_median_ms"] > 0
    assert found["ratio"] > 0
    assert "vegskriv-against-" not in worktrees()


def test_the_mixed_changeset_passes_validation_against_the_data_it_imports() -> None:
    """Else e2e-mixed measures a rejection: it did once, when the rules learnt that an in-place
    overskriv may not move a version's start away from the end of the one before."""
    from bench import e2e_mixed
    from bench.objects import CATALOG_VERSION, NETWORK
    from vegskriv.catalog import default_catalog
    from vegskriv.changesets.models import Endringssett
    from vegskriv.changesets.validation import Context, validate
    from vegskriv.network import Veglenkesekvens

    doc, imported = e2e_mixed.build_mixed(120)
    existing: dict[int, list[dict]] = {}
    for version in imported:
        existing.setdefault(version["id"], []).append(version)
    network = {s["veglenkesekvensId"]: Veglenkesekvens.model_validate(s) for s in NETWORK + e2e_mixed.EXTRA_NETWORK}
    result = validate(Endringssett.model_validate(doc), Context(catalog=default_catalog(), existing=existing,
                                                                current_catalog_version=CATALOG_VERSION,
                                                                network=network))
    assert not result.har_feil(), [(e.nvdbId, [v.kode for v in e.feil]) for e in result.vegobjekter if e.feil]
    assert {op for op, _ in Endringssett.model_validate(doc).operations()} == {"registrer", "lukk", "delvisOppdater"}
