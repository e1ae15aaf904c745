"""template.yaml read as operations sees it: do the alarms reach anyone, does a lost event stay lost,
does a function outlive its caller, do logs expire, does a role hold what no code uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from vegskriv.local.template import load_template_file

ROOT = Path(__file__).resolve().parents[2]
DOC = load_template_file(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = DOC["Resources"]
GLOBAL_FUNCTION: dict[str, Any] = DOC["Globals"]["Function"]
API_GATEWAY_INTEGRATION_TIMEOUT = 29  # seconds: a REST API answers 504 after this, whatever Lambda does


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


def refers_to(value: Any, name: str) -> bool:
    """``value`` (a Ref, GetAtt, Sub, ...) names resource ``name``."""
    if isinstance(value, dict):
        return value.get("Ref") == name or any(refers_to(v, name) for v in value.values()) or \
            (isinstance(value.get("Fn::GetAtt"), list) and value["Fn::GetAtt"][0] == name) or \
            (isinstance(value.get("Fn::GetAtt"), str) and value["Fn::GetAtt"].split(".")[0] == name)
    if isinstance(value, list):
        return any(refers_to(v, name) for v in value)
    return isinstance(value, str) and ("${" + name + "}" in value or "${" + name + "." in value)


def test_alarm_topic_is_one_cloudwatch_alarms_can_publish_to() -> None:
    # CloudWatch alarms cannot use the AWS managed key alias/aws/sns (its key policy does not let
    # cloudwatch.amazonaws.com call kms:GenerateDataKey*/kms:Decrypt, and it cannot be edited): every
    # AlarmActions/OKActions publish fails ("Failed to execute action ... AccessDeniedException") and no
    # alarm of this template ever reaches AlarmEmail. A customer managed key must grant CloudWatch.
    topic = RESOURCES["AlarmTopic"]["Properties"]
    key = topic.get("KmsMasterKeyId")
    assert key != "alias/aws/sns", "AlarmTopic is encrypted with alias/aws/sns: CloudWatch alarms cannot publish to it"
    if key is not None:
        (name,) = [n for n, r in of_type("AWS::KMS::Key").items() if refers_to(key, n)]
        grants = [s for s in RESOURCES[name]["Properties"]["KeyPolicy"]["Statement"]
                  if "cloudwatch.amazonaws.com" in str(s.get("Principal"))]
        actions = {a for s in grants for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= actions


def test_api_function_does_not_outlive_api_gateway() -> None:
    # Past 29 s API Gateway has answered 504; with a longer timeout the function goes on and registers or
    # imports what the client was told failed, and the client's retry does it a second time.
    api = RESOURCES["ApiFunction"]["Properties"]
    timeout = api.get("Timeout", GLOBAL_FUNCTION["Timeout"])
    assert timeout <= API_GATEWAY_INTEGRATION_TIMEOUT, f"ApiFunction Timeout {timeout} s > API Gateway's 29 s"


def test_a_janitor_event_that_keeps_failing_is_kept_somewhere_alarmed() -> None:
    # EventBridge invokes the janitor asynchronously: after Lambda's two retries the event is dropped,
    # and the changeset whose execution ended stays BEHANDLES/VENTER with no execution, for good.
    janitor = RESOURCES["JanitorFunction"]["Properties"]
    destination = (janitor.get("EventInvokeConfig") or {}).get("DestinationConfig", {}).get("OnFailure")
    dead_letters = janitor.get("DeadLetterQueue")
    assert destination or dead_letters, "JanitorFunction has no on-failure destination or dead-letter queue"
    target = (destination or {}).get("Destination") or (dead_letters or {}).get("TargetArn")
    queue = next(n for n in of_type("AWS::SQS::Queue") if refers_to(target, n))
    assert any(refers_to(a["Properties"].get("Dimensions"), queue)
               for a in of_type("AWS::CloudWatch::Alarm").values()), f"nothing alarms on {queue}"


def test_every_state_machine_alarms_on_failed_executions() -> None:
    # A failed ProvisioningWorkflow execution (Plan failing its retries, or RunFailed failing and taking
    # the Map and every other consumer's run with it) ends tonight's provisioning without a word.
    alarms = [a["Properties"] for a in of_type("AWS::CloudWatch::Alarm").values()]

    def watched(machine: str) -> bool:
        for alarm in alarms:
            stats = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
            stats += [{"MetricName": alarm.get("MetricName"), "Dimensions": alarm.get("Dimensions")}]
            if any(s["MetricName"] == "ExecutionsFailed" and refers_to(s.get("Dimensions"), machine) for s in stats):
                return True
        return False

    machines = of_type("AWS::Serverless::StateMachine")
    assert [m for m in machines if not watched(m)] == []


def test_every_function_log_group_expires() -> None:
    # Lambda makes /aws/lambda/<function> on first use with no retention: logs are kept (and billed) forever.
    groups = of_type("AWS::Logs::LogGroup")
    kept = {name for name, fn in of_type("AWS::Serverless::Function").items()
            if any(refers_to(g["Properties"].get("LogGroupName"), name) and g["Properties"].get("RetentionInDays")
                   for g in groups.values())
            or any(refers_to(fn["Properties"].get("LoggingConfig", {}).get("LogGroup"), g) for g in groups)}
    assert sorted(set(of_type("AWS::Serverless::Function")) - kept) == []


def test_api_role_is_granted_only_step_functions_calls_the_code_makes() -> None:
    # states:StopExecution on every changeset execution: nothing in vegskriv stops one, yet the role
    # behind the public API may abort any changeset mid-commit.
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "layers" / "vegskriv" / "vegskriv").rglob("*.py")
                     if "local" not in p.parts)
    policies = RESOURCES["ApiFunction"]["Properties"]["Policies"]
    granted = {a for p in policies if isinstance(p, dict) and "Statement" in p for s in p["Statement"]
               for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]) if a.startswith("states:")}
    unused = sorted(a for a in granted
                    if not re.search(r"\b" + re.sub(r"(?<!^)([A-Z])", r"_\1", a.split(":")[1]).lower() + r"\b", code))
    assert unused == []
