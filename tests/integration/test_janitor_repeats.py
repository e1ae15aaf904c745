"""The janitor (functions/janitor, changesets/recovery.py) on moto: what it does with an ended execution
when that end is reported twice (EventBridge and Lambda's async invocation deliver at least once), or
when the changeset already has a newer execution going; and the local stack's --data restart, which
reports every unfinished changeset to it as aborted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace

import boto3
import pytest

from tests.support.tables import moto_tables
from vegskriv import aws
from vegskriv.changesets.locks import Claim
from vegskriv.changesets.recovery import recover_execution
from vegskriv.local import persistence
from vegskriv.store import changesets
from vegskriv.store import locks as lock_store

CS = "3f1c9a52-0d7e-4a53-9a7e-0c2b7d1e5a01"


@pytest.fixture(autouse=True)
def machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with moto_tables(monkeypatch, CHANGESETS_TABLE=("ChangesetsTable", "test-Changesets"),
                     LOCKS_TABLE=("LocksTable", "test-Locks")):
        sfn = boto3.client("stepfunctions", region_name="eu-north-1")
        arn = sfn.create_state_machine(
            name="changeset", roleArn="arn:aws:iam::123456789012:role/sfn",
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
        monkeypatch.setenv("STATE_MACHINE_ARN", arn)
        from vegskriv.settings import get_settings
        get_settings.cache_clear()
        changesets.create(CS, {"id": CS, "fremdrift": "BEHANDLES", "eier": "olanor"}, {"registrer": {}})
        yield arn


def resumed(arn: str) -> list[str]:
    sfn = aws.client("stepfunctions")
    return sorted(e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]
                  if e["name"].startswith(f"{CS}-gjenopptak-"))


def ended(name: str = CS) -> dict:
    return recover_execution(execution_name=name, status="ABORTED", input_json=json.dumps({"endringssettId": CS}))


def test_the_same_end_reported_twice_resumes_the_changeset_once(machine: str) -> None:
    ended()
    ended()  # the same event again (at-least-once delivery)
    assert resumed(machine) == [f"{CS}-gjenopptak-1"]


def test_a_repeated_end_of_an_old_execution_leaves_the_live_execution_its_locks(machine: str) -> None:
    ended()
    # The resumed execution goes on and holds its locks (validating, before effectuation starts).
    claims = {(83, 1125766): Claim(kind="NORMAL", ranges=[(0.0, 1.0)])}
    lock_store.create_meta(CS, eier="olanor", kind="ENDRINGSSETT", claims=claims, lease_seconds=1800,
                           endringssett_id=CS)
    assert lock_store.acquire(CS, claims, 1800).acquired
    ended()  # the old execution's end again: nothing of the live one is its business
    assert lock_store.get(CS) is not None, "the janitor released the locks a live execution holds"


def test_a_changeset_resumed_twice_is_resumed_again_after_a_local_restart(machine: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The restart must name the changeset's newest execution (it named the first, which the janitor
    ignores once the changeset has been resumed: it stayed BEHANDLES without an execution)."""
    changesets.update(CS, gjenopptak=2)  # going when the stack stopped, resumed twice in that session
    spec = SimpleNamespace(arn="arn:aws:lambda:eu-north-1:123456789012:function:janitor")
    runtime = SimpleNamespace(functions={"janitor": spec}, invoke=lambda _spec, event: recover_execution(
        execution_name=event["detail"]["name"], status=event["detail"]["status"],
        input_json=event["detail"].get("input") or "{}"))  # functions/janitor/app.py
    monkeypatch.setattr(persistence, "_aborted_execution_subscriptions", lambda _spec, _events: [machine])
    persistence.resume_interrupted(runtime, None, "123456789012", "eu-north-1")
    executions = [e["name"] for e in aws.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]]
    assert executions == [f"{CS}-gjenopptak-3"]
