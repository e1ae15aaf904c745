"""The local stack fires the template's EventBridge Scheduler schedule (moto stores it, never fires it):
at its own cron time and timezone, or every N seconds (``vegskriv local --provisjonering-hvert N``)."""

from __future__ import annotations

import time

import pytest

from vegskriv.local.stack import LocalStack
from vegskriv.provisioning.model import Konsument
from vegskriv.store import provisioning as store


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, serve_api=False, schedule_every=0.5,
                    env={"POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


def test_the_schedule_is_the_templates_with_its_timezone_and_target(stack) -> None:
    (schedule,) = stack.scheduler.schedules
    assert (schedule.name, schedule.expression, schedule.timezone) == (
        "ProvisioningWorkflowNightly", "cron(0 2 * * ? *)", "Europe/Oslo")
    assert schedule.target_arn == stack.state_machine_arns["ProvisioningWorkflow"]


def test_every_half_second_the_nightly_workflow_runs_every_consumer(stack) -> None:
    store.create_consumer(Konsument(id="natt", navn="Natt", utvalg={"vegobjekttyper": [83]},
                                    mål={"type": "DYNAMODB"}, eier="fagadmin"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = [r for r in store.list_runs("natt") if r.status == "FULLFØRT"]
        if len(done) >= 2:
            break
        time.sleep(0.2)
    assert len(done) >= 2, store.list_runs("natt")  # planned by the workflow's Plan step, one per firing
    assert {r.modus for r in done} == {"DELTA"}
    sfn = stack.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=stack.state_machine_arns["ProvisioningWorkflow"])
    assert len(executions["executions"]) >= 2
    arns = {e["executionArn"] for e in executions["executions"]}
    assert {r.plan for r in done} <= arns  # each run names the execution whose plan made it

