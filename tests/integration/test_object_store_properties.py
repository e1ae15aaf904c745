"""The object store on moto, over generated changesets (Hypothesis): what readers see is the stored
history until the commit, exactly the planned history after it (before and after the fold), and the
stored history again when the changeset is cancelled instead."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from pydantic import ValidationError

from tests.support.strategies import CATALOG, NETWORK, clean_changesets, history_after, stored
from vegskriv import aws
from vegskriv.changesets.models import Endringssett
from vegskriv.changesets.operations import plan_changeset
from vegskriv.changesets.validation import Context, validate
from vegskriv.settings import get_settings
from vegskriv.store import objects

OBJECTS, CHANGESETS = "prop-ObjectsTable", "prop-ChangesetsTable"
KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]


@pytest.fixture(scope="module", autouse=True)
def environment() -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    for name, value in (("OBJECTS_TABLE", OBJECTS), ("CHANGESETS_TABLE", CHANGESETS),
                        ("AWS_DEFAULT_REGION", "eu-north-1")):
        patch.setenv(name, value)
    with mock_aws():
        yield
    patch.undo()
    aws.reset()
    get_settings.cache_clear()


def fresh_tables() -> None:
    aws.reset()
    get_settings.cache_clear()
    ddb = boto3.client("dynamodb", region_name="eu-north-1")
    for name in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName=name)
    ddb.create_table(TableName=CHANGESETS, BillingMode="PAY_PER_REQUEST", KeySchema=KEYS, AttributeDefinitions=[
        {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}])
    ddb.create_table(TableName=OBJECTS, BillingMode="PAY_PER_REQUEST", KeySchema=KEYS, AttributeDefinitions=[
        {"AttributeName": n, "AttributeType": t} for n, t in (("pk", "S"), ("sk", "S"), ("typeId", "N"),
                                                               ("objektNokkel", "S"))],
        GlobalSecondaryIndexes=[{"IndexName": "ByType", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
            {"AttributeName": "typeId", "KeyType": "HASH"}, {"AttributeName": "objektNokkel", "KeyType": "RANGE"}]}])


def state(cs: str, fremdrift: str, committed: bool = False) -> None:
    aws.table(CHANGESETS).put_item(Item={"pk": f"ES#{cs}", "sk": "META", "id": cs, "fremdrift": fremdrift,
                                         **({"committed": True} if committed else {})})


def seen(ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    return {n: versions for n in ids if (versions := objects.versions(n))}


def differences(got: dict[int, Any], want: dict[int, Any]) -> list[tuple[int, Any, Any]]:
    return [(n, got.get(n), want.get(n)) for n in sorted({*got, *want}) if got.get(n) != want.get(n)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_readers_see_the_old_history_until_the_commit_and_then_exactly_the_planned_one(
        data: st.DataObject, cancel: bool) -> None:
    existing = data.draw(stored())
    try:
        doc = Endringssett.model_validate(data.draw(clean_changesets(existing)))
    except ValidationError:
        assume(False)
        return
    result = validate(doc, Context(catalog=CATALOG, current_catalog_version="2.38", network=NETWORK,
                                   existing=existing))
    assume(not any(e.feil for e in result.vegobjekter))
    cs = str(uuid.uuid4())  # as in production: the store remembers committed ids for the process
    plan = plan_changeset(doc, existing, 1_000_000, cs, "2026-12-05T00:00:00Z", CATALOG)
    fresh_tables()
    objects.import_versions([v for versions in existing.values() for v in versions])
    ids = sorted({*existing, *(w.nvdb_id for w in plan.writes)})
    before = seen(ids)
    assert before == existing

    state(cs, "BEHANDLES")
    objects.write_overlays(cs, plan.writes)
    objects.write_overlays(cs, plan.writes)  # a step run twice (a retry) changes nothing
    assert not differences(seen(ids), before)
    keys = [w.key() for w in plan.writes]
    if cancel:
        state(cs, "KANSELLERT")
        objects.drop_overlays(cs, keys)
        assert not differences(seen(ids), before)
        return
    state(cs, "UTFØRT", committed=True)
    planned = history_after(existing, plan.writes)
    assert not differences(seen(ids), planned)
    objects.fold_overlays(cs, keys)
    assert not differences(seen(ids), planned)
