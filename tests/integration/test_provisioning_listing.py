"""The listings a provisioning run pages through: by type (FULL) and by change (DELTA)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.support.fixtures import history
from tests.support.tables import create_template_table
from vegskriv import aws
from vegskriv.settings import get_settings
from vegskriv.store import changes, objects


@pytest.fixture(autouse=True)
def scanned(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """ScannedCount of every Query: what DynamoDB reads, and bills."""
    monkeypatch.setenv("OBJECTS_TABLE", "o")
    monkeypatch.setenv("CHANGESETS_TABLE", "c")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        create_template_table("ChangesetsTable", "c")
        create_template_table("ObjectsTable", "o")
        objects.import_versions([v for n in range(1, 41) for v in history(n, 83, 1)])
        seen: list[int] = []
        aws.dynamodb().meta.client.meta.events.register(
            "after-call.dynamodb.Query", lambda parsed, **_: seen.append(int(parsed["ScannedCount"])))
        yield seen
    aws.reset()
    get_settings.cache_clear()


def test_a_type_page_reads_the_page_not_a_megabyte_of_the_index(scanned: list[int]) -> None:
    page, cursor = objects.list_by_type(83, after_nvdb_id=10, limit=5)
    assert [o["id"] for o in page] == [11, 12, 13, 14, 15] and cursor == 15
    assert sum(scanned) <= 6  # the page and the one item that says there is more


def test_a_change_page_reads_the_page_not_a_megabyte_of_the_index(scanned: list[int]) -> None:
    found, _, more = changes.changed(83, after_key="2000-01-01T00:00:00.000Z", limit=5)
    assert len(found) == 5 and more
    assert sum(scanned) <= 6
