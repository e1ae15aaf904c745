"""Provisioning's races and changes of mind, as use cases against moto (the provisioning, objects and
changesets tables), the API called in-process as API Gateway would call it: a consumer changed or
removed while runs come and go, two approvals at once, a retried plan, a dry run beside a quarantine,
a watermark saved while an administrator edits the consumer."""

from __future__ import annotations

import contextlib
import json
import time
import types
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fixtures import history
from tests.support.tables import ROOT, _resources, moto_tables
from vegskriv.api.app import handle
from vegskriv.errors import Conflict
from vegskriv.provisioning import jobs
from vegskriv.provisioning import run as engine
from vegskriv.provisioning.model import Konsument
from vegskriv.store import objects
from vegskriv.store import provisioning as store


@pytest.fixture(autouse=True)
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ENDRET_OVERLAPP_SEKUNDER", "0")  # runs follow each other: no overlap on the feed
    with moto_tables(monkeypatch, PROVISIONING_TABLE=("ProvisioningTable", "p"),
                     OBJECTS_TABLE=("ObjectsTable", "o"), CHANGESETS_TABLE=("ChangesetsTable", "c")):
        yield


def api(method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One request to the API function as the consumer's administrator (fagadmin)."""
    event = {"httpMethod": method, "path": path, "resource": path, "isBase64Encoded": False,
             "headers": {"Host": "localhost", "Content-Type": "application/json"},
             "body": None if body is None else json.dumps(body), "queryStringParameters": None,
             "requestContext": {"stage": "v", "authorizer": {"user": "fagadmin",
                                                             "roles": json.dumps(["5_fagdata_admin"])}}}
    context = types.SimpleNamespace(function_name="vegskriv-api", memory_limit_in_mb=1024, aws_request_id="r1",
                                    invoked_function_arn="arn:aws:lambda:eu-north-1:123456789012:function:api")
    answer = handle(event, context)
    return answer["statusCode"], json.loads(answer["body"])


def register(konsument_id: str = "k1", types_: list[int] | None = None) -> Konsument:
    status, body = api("POST", "/rest/v1/konsumenter", {
        "id": konsument_id, "navn": "K", "utvalg": {"vegobjekttyper": types_ or [83]}, "mål": {"type": "DYNAMODB"},
        "sletteterskel": {"antall": 1000, "andel": 1.0}})
    assert status == 201, body
    return Konsument.model_validate(body)


def run(konsument_id: str, modus: str) -> Any:
    konsument = store.get_consumer(konsument_id)
    assert konsument is not None
    return jobs.run_to_end(konsument_id, jobs.create_run(konsument, modus, False).id)


def test_a_type_added_to_the_subset_reaches_the_consumer_with_the_next_nightly_run() -> None:
    objects.import_versions([v for n in range(1, 6) for v in history(n, 83, 1)]
                            + [v for n in range(101, 104) for v in history(n, 79, 1)])
    register(types_=[83])
    time.sleep(0.01)
    assert run("k1", "FULL").status == "FULLFØRT"  # the consumer now has a watermark
    time.sleep(0.01)
    status, body = api("PATCH", "/rest/v1/konsumenter/k1", {"utvalg": {"vegobjekttyper": [83, 79]}})
    assert status == 200, body
    nightly = run("k1", "DELTA")  # what the schedule starts (plan_nightly)
    assert nightly.status == "FULLFØRT", nightly
    held = {i for i, _ in store.DynamoTarget("k1").held(None, 1000)[0]}
    assert held == {1, 2, 3, 4, 5, 101, 102, 103}  # the type-79 objects that existed before the PATCH


def test_a_late_chunk_of_a_removed_consumers_run_does_not_come_back_to_its_successor() -> None:
    """A consumer removed (DELETE) and registered again with the same id while its run's last
    chunk is going: that chunk must neither bring the old run back nor move the new consumer's
    watermark (its first run must compare everything)."""
    konsument = register()
    old = jobs.create_run(konsument, "FULL", False)
    old.fase = "SLETT"  # its last chunk: nothing parked, so it finishes the run
    status, _ = api("DELETE", "/rest/v1/konsumenter/k1")
    assert status == 200
    register()
    with contextlib.suppress(store.Replaced):
        engine.step(old, konsument, store.ReadApiProvider(), store.DynamoTarget("k1"), store.Runs())
    again = store.get_consumer("k1")
    assert again is not None and again.vannmerke is None, again.vannmerke
    assert store.get_run("k1", old.id) is None
    jobs.create_run(again, "DELTA", False)  # the new consumer is not blocked by the old run


def test_two_approvals_of_one_quarantined_run_at_once_start_one_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    konsument = register()
    held = jobs.create_run(konsument, "FULL", False)
    held.status = "KARANTENE"
    store.save_run(held)
    table = store._table()
    key = {"pk": "KONSUMENT#k1", "sk": f"KJ#{held.id}"}
    seen = table.get_item(Key=key, ConsistentRead=True)  # both requests read the quarantined run ...
    jobs.approve("k1", held.id)  # ... the first writes (and starts an execution)

    class AsReadBefore:  # the table as the second request saw it when it read
        def __getattr__(self, name: str) -> Any:
            return getattr(table, name)

        def get_item(self, **kwargs: Any) -> Any:
            return seen if kwargs["Key"] == key else table.get_item(**kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(store, "_table", AsReadBefore)
        with pytest.raises(Conflict):
            jobs.approve("k1", held.id)  # accepted too: a second execution applies the same deletes


def test_a_retried_plan_hands_over_the_runs_its_failed_attempt_created(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan's Lambda fails after creating some runs (its answer lost, say): the retry, with the same
    execution id, hands those runs over instead of leaving them PÅGÅR without an execution."""
    for konsument_id in ("a", "b"):
        register(konsument_id)
    real = jobs.create_run
    failures = iter([RuntimeError("the Lambda's answer was lost")])

    def lost_after_a(konsument: Konsument, modus: str, dry_run: bool, plan: str | None = None) -> Any:
        run = real(konsument, modus, dry_run, plan)
        if konsument.id == "a" and (error := next(failures, None)):
            raise SystemExit(error)  # not caught by the plan: the whole attempt fails
        return run

    monkeypatch.setattr(jobs, "create_run", lost_after_a)
    with pytest.raises(SystemExit):
        jobs.plan_nightly("exec-1")  # attempt 1: created a's run, then failed
    planned = jobs.plan_nightly("exec-1")  # attempt 2 (Plan's Retry): its answer is what the Map runs
    assert {p["consumerId"] for p in planned} == {"a", "b"}, planned
    assert jobs.plan_nightly("exec-2") == []  # another night's plan does not take them over


def test_one_consumer_that_cannot_be_planned_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    for konsument_id in ("a", "b"):
        register(konsument_id)
    real = jobs.create_run

    def failing_for_a(konsument: Konsument, modus: str, dry_run: bool, plan: str | None = None) -> Any:
        if konsument.id == "a":
            raise RuntimeError("ProvisionedThroughputExceededException")
        return real(konsument, modus, dry_run, plan)

    monkeypatch.setattr(jobs, "create_run", failing_for_a)
    assert [p["consumerId"] for p in jobs.plan_nightly("exec-1")] == ["b"]


def test_a_dry_run_does_not_end_a_quarantined_run() -> None:
    """A preview answers 409 while a run waits for approval, which it would otherwise replace."""
    konsument = register()
    held = jobs.create_run(konsument, "FULL", False)
    held.status = "KARANTENE"
    store.save_run(held)
    with pytest.raises(Conflict, match="KARANTENE"):
        jobs.create_run(konsument, "FULL", True)
    assert store.get_run("k1", held.id).status == "KARANTENE"  # type: ignore[union-attr]
    jobs.approve("k1", held.id)


def test_a_watermark_saved_as_a_run_ends_does_not_undo_a_patch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's last save reads the consumer to set its watermark; an administrator's edit lands
    between that read and the write. The edit is kept and the watermark is set."""
    register()
    going = jobs.create_run(store.get_consumer("k1"), "FULL", False)  # type: ignore[arg-type]
    seen = store.get_consumer_text("k1")  # what the run's last save reads ...
    status, _ = api("PATCH", "/rest/v1/konsumenter/k1", {"sletteterskel": {"antall": 0, "andel": 0.0}})
    assert status == 200  # ... an administrator tightens the threshold (200, the new value shown) ...
    reads = iter([seen])
    real = store.get_consumer_text
    with monkeypatch.context() as patched:
        patched.setattr(store, "get_consumer_text", lambda i: next(reads, None) or real(i))
        going.status = "FULLFØRT"
        store.finish_run(going, "2025-01-01T00:00:00.000Z")  # ... and the run writes what it read
    again = store.get_consumer("k1")
    assert again is not None and again.sletteterskel.antall == 0 and again.vannmerke == "2025-01-01T00:00:00.000Z"


def test_a_patch_of_the_subset_ends_the_going_run_which_then_never_sets_the_watermark() -> None:
    """A run started under the old subset must not go on under the new one, nor mark the new subset
    as provisioned up to its watermark."""
    objects.import_versions([v for n in range(1, 4) for v in history(n, 83, 1)])
    konsument = register()
    going = jobs.create_run(konsument, "FULL", False)
    status, body = api("PATCH", "/rest/v1/konsumenter/k1", {"utvalg": {"vegobjekttyper": [83, 79]}})
    assert status == 200, body
    ended = store.get_run("k1", going.id)
    assert ended is not None and ended.status == "FEILET" and "utvalg" in ended.merknader[-1]
    assert jobs.run_step("k1", going.id) is True  # its execution's next chunk stops
    again = store.get_consumer("k1")
    assert again is not None and again.vannmerke is None
    assert {i for i, _ in store.DynamoTarget("k1").held(None, 1000)[0]} == set()  # nothing sent for it
    assert run("k1", "DELTA").status == "FULLFØRT"  # not blocked: the next run starts at once


def test_a_chunk_the_state_machine_may_still_retry_is_never_taken_for_a_dead_run() -> None:
    asl = json.loads((ROOT / "statemachine" / "provisioning.asl.json").read_text())
    chunk = asl["States"]["Runs"]["Iterator"]["States"]["Chunk"]
    timeout = _resources()["ProvisioningFunction"]["Properties"]["Timeout"]
    (retry,) = chunk["Retry"]
    attempts = 1 + retry["MaxAttempts"]
    waits = sum(retry["IntervalSeconds"] * retry["BackoffRate"] ** n for n in range(retry["MaxAttempts"]))
    worst = attempts * timeout + waits  # from the last save to the last attempt's end
    assert worst < jobs.STALE_AFTER.total_seconds(), (
        f"a chunk may still run {worst:.0f} s after the run's last save; a run unsaved for "
        f"{jobs.STALE_AFTER.total_seconds():.0f} s is replaced as dead")
