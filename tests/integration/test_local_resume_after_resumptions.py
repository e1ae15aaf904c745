"""The local stack's --data restart (local/persistence.resume_interrupted) reports every unfinished
changeset to the janitor as an ABORTED execution; the janitor acts only on a changeset's newest
execution, so the report must name that one (it named the first: one resumed twice stayed stuck)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace

import boto3
import pytest

from tests.support.tables import moto_tables
from vegskriv import aws
from vegskriv.changesets.recovery import recover_execution
from vegskriv.local import persistence
from vegskriv.store import changesets

CS = "3f1c9a52-0d7e-4a53-9a7e-0c2b7d1e5a02"


@pytest.fixture()
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
        yield arn


def test_a_changeset_resumed_twice_is_resumed_again_after_a_local_restart(machine: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # A changeset going when the local stack stopped; the janitor had resumed it twice in that session.
    changesets.create(CS, {"id": CS, "fremdrift": "BEHANDLES", "eier": "olanor", "startBestilt": True},
                      {"registrer": {}})
    changesets.update(CS, gjenopptak=2)
    spec = SimpleNamespace(arn="arn:aws:lambda:eu-north-1:123456789012:function:janitor")
    runtime = SimpleNamespace(functions={"janitor": spec}, invoke=lambda _spec, event: recover_execution(
        execution_name=event["detail"]["name"], status=event["detail"]["status"],
        input_json=event["detail"].get("input") or "{}"))  # functions/janitor/app.py
    monkeypatch.setattr(persistence, "_aborted_execution_subscriptions", lambda _spec, _events: [machine])

    persistence.resume_interrupted(runtime, None, "123456789012", "eu-north-1")

    executions = [e["name"] for e in aws.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]]
    assert executions, "the restarted stack left the changeset without an execution (it stays BEHANDLES)"
