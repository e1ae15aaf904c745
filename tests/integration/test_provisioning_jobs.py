"""Runs as use cases (moto): a run can never block its consumer for good. A run with no execution
left (its report unsaved for an hour) or that the state machine could not take ends FEILET, and a
quarantined run is replaced by the next one, which compares again, instead of being approved later."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from tests.support.tables import moto_tables
from vegskriv import observability
from vegskriv.errors import Conflict
from vegskriv.provisioning import jobs
from vegskriv.provisioning.model import Kjøring, Konsument
from vegskriv.settings import get_settings
from vegskriv.store import provisioning as store

KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]


@pytest.fixture(autouse=True)
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with moto_tables(monkeypatch, PROVISIONING_TABLE=("ProvisioningTable", "p")):
        yield


@pytest.fixture()
def alarms(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each emission of the metric ProvisioningAttentionAlarm watches."""
    emitted: list[str] = []
    monkeypatch.setattr(observability.metrics, "add_metric",
                        lambda name, **_: emitted.append(name) if name == jobs.ATTENTION_METRIC else None)
    monkeypatch.setattr(observability.metrics, "flush_metrics", lambda **_: None)
    return emitted


@pytest.fixture()
def konsument() -> Konsument:
    made = Konsument(id="k1", navn="K", utvalg={"vegobjekttyper": [83]}, mål={"type": "DYNAMODB"}, eier="fagadmin")
    store.create_consumer(made)
    return made


def _saved_ago(run: Kjøring, age: timedelta) -> None:
    """The report as a run left it ``age`` ago (save_run would stamp it now)."""
    run.lagret = (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    boto3.resource("dynamodb", region_name="eu-north-1").Table("p").put_item(Item={
        "pk": f"KONSUMENT#{run.konsumentId}", "sk": f"KJ#{run.id}", "data": run.model_dump_json()})


def test_a_run_that_is_going_blocks_a_new_one_until_nothing_has_saved_it_for_an_hour(konsument: Konsument,
                                                                                     alarms: list[str]) -> None:
    first = jobs.create_run(konsument, "DELTA", False)
    with pytest.raises(Conflict):
        jobs.create_run(konsument, "FULL", False)
    _saved_ago(first, timedelta(minutes=50))
    with pytest.raises(Conflict):
        jobs.create_run(konsument, "FULL", False)
    _saved_ago(first, timedelta(minutes=70))
    assert alarms == []
    second = jobs.create_run(konsument, "FULL", False)
    assert alarms == [jobs.ATTENTION_METRIC]  # its execution died: an administrator is told
    ended = store.get_run("k1", first.id)
    assert ended is not None and ended.status == "FEILET" and ended.ferdig
    assert "stoppet uten å bli ferdig" in ended.merknader[-1]
    assert [r.id for r in store.list_runs("k1")] == [second.id, first.id]


def test_a_quarantined_run_is_replaced_by_the_next_and_can_no_longer_be_approved(konsument: Konsument,
                                                                                alarms: list[str]) -> None:
    held = jobs.create_run(konsument, "DELTA", False)
    held.status = "KARANTENE"
    store.save_run(held)
    newer = jobs.create_run(konsument, "DELTA", False)
    assert alarms == []  # it told when it was held; the new run tells if it is held too
    replaced = store.get_run("k1", held.id)
    assert replaced is not None and replaced.status == "FEILET"
    assert "ingenting ble slettet" in replaced.merknader[-1]
    with pytest.raises(Conflict):
        jobs.approve("k1", held.id)
    assert store.get_run("k1", newer.id).status == "PÅGÅR"  # type: ignore[union-attr]


def test_a_run_the_state_machine_cannot_take_ends_feilet_at_once(konsument: Konsument,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISIONING_STATE_MACHINE_ARN",
                       "arn:aws:states:eu-north-1:123456789012:stateMachine:finnes-ikke")
    get_settings.cache_clear()
    run = jobs.create_run(konsument, "DELTA", False)
    with pytest.raises(Exception, match=r"StateMachineDoesNotExist|does not exist"):
        jobs.start_execution([run])
    assert store.get_run("k1", run.id).status == "FEILET"  # type: ignore[union-attr]
    jobs.create_run(konsument, "DELTA", False)  # the consumer is free again


def test_the_state_machines_catch_ends_a_going_run_and_leaves_an_ended_one(konsument: Konsument,
                                                                         alarms: list[str]) -> None:
    run = jobs.create_run(konsument, "DELTA", False)
    error = {"Error": "RuntimeError", "Cause": json.dumps({"errorMessage": "disken er full"})}
    jobs.fail_run("k1", run.id, error)
    assert alarms == [jobs.ATTENTION_METRIC]  # an administrator is told
    failed = store.get_run("k1", run.id)
    assert failed is not None and failed.status == "FEILET" and "RuntimeError" in failed.merknader[-1]
    jobs.fail_run("k1", run.id, error)  # the Catch's task retried: said once
    assert store.get_run("k1", run.id).merknader == failed.merknader  # type: ignore[union-attr]
    done = jobs.create_run(konsument, "DELTA", False)
    done.status = "FULLFØRT"
    store.save_run(done)
    jobs.fail_run("k1", done.id, error)
    assert store.get_run("k1", done.id).status == "FULLFØRT"  # type: ignore[union-attr]
    jobs.fail_run("k1", "finnes-ikke", None)


def test_of_two_runs_started_at_once_one_is_refused(konsument: Konsument, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(2):  # a consumer's first run, then a run after a finished one
        seen = store.newest_run("k1")  # both requests read the newest run before either writes
        with monkeypatch.context() as patched:
            patched.setattr(store, "newest_run", lambda _id, seen=seen: seen)
            started = jobs.create_run(konsument, "DELTA", False)
            store.save_consumer(konsument)  # a PATCH of the consumer in between changes nothing
            with pytest.raises(Conflict, match="samtidig"):
                jobs.create_run(konsument, "DELTA", False)
        assert store.list_runs("k1", limit=1)[0].id == started.id
        started.status = "FULLFØRT"
        store.save_run(started)
    assert len(store.list_runs("k1")) == 2


def test_a_replaced_run_is_not_brought_back_by_a_late_save_or_an_approval(konsument: Konsument,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    held = jobs.create_run(konsument, "DELTA", False)
    held.status = "KARANTENE"
    store.save_run(held)
    seen = store.newest_run("k1")
    jobs.approve("k1", held.id)  # approved between another request's read and its write
    with monkeypatch.context() as patched:
        patched.setattr(store, "newest_run", lambda _id: seen)
        with pytest.raises(Conflict):
            jobs.create_run(konsument, "DELTA", False)  # it read KARANTENE, but the run goes on now
    assert store.get_run("k1", held.id).status == "PÅGÅR"  # type: ignore[union-attr]

    _saved_ago(held, timedelta(hours=2))  # its execution died
    jobs.create_run(konsument, "DELTA", False)
    with pytest.raises(store.Replaced):
        store.save_run(held)  # a late chunk of the replaced run
    assert store.get_run("k1", held.id).status == "FEILET"  # type: ignore[union-attr]
    assert jobs.run_step("k1", held.id) is True  # its workflow stops


def test_a_consumer_removed_and_registered_again_starts_its_first_run(konsument: Konsument) -> None:
    jobs.create_run(konsument, "DELTA", False)
    store.delete_consumer("k1")
    store.create_consumer(konsument)
    jobs.create_run(konsument, "DELTA", False)
    assert len(store.list_runs("k1")) == 1
