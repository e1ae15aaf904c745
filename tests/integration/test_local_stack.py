"""The local runtime (vegskriv.local): template → moto resources, in-process Lambda, local API
Gateway with the TOKEN authorizer, SQS pollers with ReportBatchItemFailures.

Two stacks are exercised: the real ``template.yaml`` (resources, wiring) and a mini template
written to a temp dir with tiny functions of its own, so the runtime is tested independently of
the domain handlers.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from vegskriv.local.stack import LocalStack
from vegskriv.local.template import load_template_file

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


def http(url: str, method: str = "GET", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# --------------------------------------------------------------------------- template parsing


def test_short_tags_become_long_forms() -> None:
    doc = load_template_file(TEMPLATE)
    props = doc["Resources"]["ChangesetWorkflow"]["Properties"]
    assert props["DefinitionSubstitutions"]["WorkflowFunctionArn"] == {
        "Fn::GetAtt": ["WorkflowFunction", "Arn"]}
    assert doc["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


# --------------------------------------------------------------------------- the real template


@pytest.fixture(scope="class")
def real_stack() -> Any:
    with LocalStack(TEMPLATE, port=0, seed=False, run_pollers=False,
                    parameters={"WaitFirstSeconds": "1"}) as stack:
        yield stack


class TestRealTemplate:
    @pytest.fixture
    def stack(self, real_stack: LocalStack) -> LocalStack:
        return real_stack

    def test_tables_have_keys_indexes_and_ttl(self, stack: LocalStack) -> None:
        ddb = stack.client("dynamodb")
        expected = {
            "vegskriv-ChangesetsTable": ("ByMottatt", [("gsi1pk", "HASH"), ("mottattMs", "RANGE")], "utloper"),
            "vegskriv-ObjectsTable": ("ByType", [("typeId", "HASH"), ("objektNokkel", "RANGE")], None),
            "vegskriv-LocksTable": ("ByEier", [("eier", "HASH"), ("sk", "RANGE")], "utloper"),
            "vegskriv-ReferenceTable": (None, None, None),
            "vegskriv-ServicesTable": (None, None, None),
            "vegskriv-ProvisioningTable": (None, None, None),
        }
        assert sorted(ddb.list_tables()["TableNames"]) == sorted(expected)
        for name, (index, index_keys, ttl_attr) in expected.items():
            table = ddb.describe_table(TableName=name)["Table"]
            assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [
                ("pk", "HASH"), ("sk", "RANGE")]
            assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
            gsis = table.get("GlobalSecondaryIndexes", [])
            if index is None:
                assert gsis == []
            else:
                gsi = next(g for g in gsis if g["IndexName"] == index)
                assert [(k["AttributeName"], k["KeyType"]) for k in gsi["KeySchema"]] == index_keys
                assert gsi["Projection"]["ProjectionType"] == "ALL"
            ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if ttl_attr:
                assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl_attr}
            pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
            assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    def test_queue_with_redrive_to_dlq(self, stack: LocalStack) -> None:
        sqs = stack.client("sqs")
        url = stack.queue_urls["StartQueue"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attrs["VisibilityTimeout"] == "360"
        assert json.loads(attrs["RedrivePolicy"]) == {
            "deadLetterTargetArn": "arn:aws:sqs:eu-north-1:123456789012:vegskriv-StartDeadLetterQueue",
            "maxReceiveCount": 5}
        assert url.endswith("/vegskriv-StartQueue")
        delivery = sqs.get_queue_attributes(QueueUrl=stack.queue_urls["DeliveryQueue"],
                                            AttributeNames=["RedrivePolicy"])["Attributes"]
        target = json.loads(delivery["RedrivePolicy"])["deadLetterTargetArn"]
        assert target.endswith(":vegskriv-DeliveryDeadLetterQueue")

    def test_functions_exist_with_template_environment(self, stack: LocalStack) -> None:
        lam = stack.client("lambda")
        names = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
        assert set(names) == {"vegskriv-ApiFunction", "vegskriv-AuthorizerFunction",
                              "vegskriv-DispatcherFunction", "vegskriv-WorkflowFunction", "vegskriv-JanitorFunction",
                              "vegskriv-ProvisioningFunction", "vegskriv-DeliveryFunction"}
        api = names["vegskriv-ApiFunction"]
        assert api["Runtime"] == "python3.12"
        assert api["Environment"]["Variables"]["LOCKS_TABLE"] == "vegskriv-LocksTable"
        assert api["Environment"]["Variables"]["START_QUEUE_URL"] == stack.queue_urls["StartQueue"]

    def test_state_machine_is_the_asl_file_with_substitutions(self, stack: LocalStack) -> None:
        sfn = stack.client("stepfunctions")
        machines = {m["name"]: m for m in sfn.list_state_machines()["stateMachines"]}
        assert set(machines) == {"vegskriv-ChangesetWorkflow", "vegskriv-ProvisioningWorkflow"}
        machine = machines["vegskriv-ChangesetWorkflow"]
        described = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])
        asl = (ROOT / "statemachine" / "changeset.asl.json").read_text(encoding="utf-8")
        expected = asl.replace("${WorkflowFunctionArn}",
                               "arn:aws:lambda:eu-north-1:123456789012:function:vegskriv-WorkflowFunction")
        shared = stack.template.doc["Resources"]["ChangesetWorkflow"]["Properties"]["DefinitionSubstitutions"]
        for key in ("LambdaRetry", "CatchSystemFailure"):  # policies written once, in the template
            expected = expected.replace("${" + key + "}", shared[key])
        assert json.loads(described["definition"]) == json.loads(expected)
        assert "${" not in described["definition"]

    def test_every_translated_resource_but_the_rest_api_exists(self, stack: LocalStack) -> None:
        created = {lid: r["ResourceType"] for lid, r in stack.resources.items()
                   if r["ResourceStatus"] == "CREATE_COMPLETE"}
        assert created["JanitorFunctionExecutionEnded"] == "AWS::Events::Rule"
        assert created["DispatcherFunctionStart"] == "AWS::Lambda::EventSourceMapping"
        assert created["AlarmTopic"] == "AWS::SNS::Topic"
        assert not [t for t in created.values() if t.startswith("AWS::ApiGateway::")]
        (rule,) = stack.client("events").list_rules()["Rules"]
        (target,) = stack.client("events").list_targets_by_rule(Rule=rule["Name"])["Targets"]
        assert target["Arn"].endswith(":function:vegskriv-JanitorFunction")
        assert json.loads(rule["EventPattern"])["detail"]["stateMachineArn"] == [
            stack.state_machine_arns["ChangesetWorkflow"]]

    def test_functions_routes_and_sources_are_what_moto_created(self, stack: LocalStack) -> None:
        # Globals, parameters and intrinsics resolved by SAM's translator and moto's CloudFormation
        functions = stack.functions
        assert set(functions) == {"ApiFunction", "AuthorizerFunction", "DispatcherFunction", "WorkflowFunction",
                                  "JanitorFunction", "ProvisioningFunction", "DeliveryFunction"}
        api = functions["ApiFunction"]
        assert api.name == "vegskriv-ApiFunction"
        assert api.runtime == "python3.12" and api.timeout == 29 and api.memory_size == 1024
        assert api.code_dir == ROOT / "functions" / "api"
        assert api.environment["CHANGESETS_TABLE"] == "vegskriv-ChangesetsTable"
        assert api.environment["WAIT_FIRST_SECONDS"] == "1"
        assert api.environment["STATE_MACHINE_ARN"] == (
            "arn:aws:states:eu-north-1:123456789012:stateMachine:vegskriv-ChangesetWorkflow")
        assert api.environment["START_QUEUE_URL"].endswith("/123456789012/vegskriv-StartQueue")
        workflow = functions["WorkflowFunction"]
        assert workflow.timeout == 900 and workflow.memory_size == 2048
        assert "STATE_MACHINE_ARN" not in workflow.environment
        routes = {(r.path, r.method): r.authorizer for r in stack.template.api_routes()}
        assert routes == {("/{proxy+}", "ANY"): "JwtAuthorizer", ("/health", "GET"): None,
                          ("/openapi.json", "GET"): None, ("/swagger", "GET"): None,
                          ("/rest/v1/oidc/{proxy+}", "ANY"): None,
                          ("/nvdb/apiskriv/rest/v1/oidc/{proxy+}", "ANY"): None,
                          ("/{proxy+}", "OPTIONS"): None, ("/", "GET"): None,
                          ("/kontrollpanel", "GET"): None, ("/generator", "GET"): None, ("/ui/{fil}", "GET"): None,
                          ("/ui/dev-token", "POST"): None}
        (authorizer,) = stack.template.authorizers("Api").values()
        assert (authorizer.function_logical_id, authorizer.payload_type, authorizer.header) == (
            "AuthorizerFunction", "TOKEN", "Authorization")
        sources = {s.queue_logical_id: (s.function.logical_id, s.batch_size, s.report_batch_item_failures)
                   for s in stack.template.sqs_event_sources(stack.client)}
        assert sources == {"StartQueue": ("DispatcherFunction", 10, True),
                           "DeliveryQueue": ("DeliveryFunction", 5, True)}

    def test_every_resource_of_the_template_exists_locally(self, stack: LocalStack) -> None:
        from vegskriv.local.translate import DROPPED_TYPE_PREFIXES

        created = {lid for lid, r in stack.resources.items() if r["ResourceStatus"] == "CREATE_COMPLETE"}
        translated = stack.template.translated["Resources"]
        declared = stack.template.doc["Resources"]
        conditional = {lid: res["Condition"] for lid, res in declared.items() if "Condition" in res}
        # the subscription exists only with an AlarmEmail (off by default, so not locally either)
        assert conditional == {"AlarmEmailSubscription": "HasAlarmEmail"}
        missing = [lid for lid in declared if lid not in conditional and lid not in created
                   # SAM names a layer version by its content hash: VegskrivLayer → VegskrivLayerde4f622207
                   and not any(re.fullmatch(re.escape(lid) + "[0-9a-f]{10}", c) for c in created)
                   # the documented exception: moto cannot deploy SAM's REST API; local.apigw serves it
                   and not translated.get(lid, {}).get("Type", "").startswith(DROPPED_TYPE_PREFIXES)]
        assert missing == []
        topic = stack.resources["AlarmTopic"]["PhysicalResourceId"]
        alarms = {a["AlarmName"]: a for a in stack.client("cloudwatch").describe_alarms()["MetricAlarms"]}
        expected = {f"vegskriv-{lid}" for lid, res in declared.items() if res["Type"] == "AWS::CloudWatch::Alarm"}
        assert len(expected) >= 5 and set(alarms) == expected
        assert all(alarm["AlarmActions"] == [topic] for alarm in alarms.values())
        dlq = alarms["vegskriv-StartDeadLetterQueueAlarm"]
        assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": "vegskriv-StartDeadLetterQueue"}]
        (schedule,) = stack.client("scheduler").list_schedules()["Schedules"]
        assert schedule["Name"] == "ProvisioningWorkflowNightly"
        assert schedule["Target"]["Arn"] == stack.state_machine_arns["ProvisioningWorkflow"]

    def test_environment_is_exported_for_in_process_handlers(self, stack: LocalStack) -> None:
        import os

        from vegskriv.auth import LOCAL_DEV_SECRET
        from vegskriv.settings import get_settings

        settings = get_settings()
        assert settings.changesets_table == "vegskriv-ChangesetsTable"
        assert settings.state_machine_arn == stack.state_machine_arns["ChangesetWorkflow"]
        assert settings.start_queue_url == stack.queue_urls["StartQueue"]
        assert settings.jwt_secret == LOCAL_DEV_SECRET and settings.jwt_jwks_url == ""
        assert os.environ["AWS_DEFAULT_REGION"] == "eu-north-1"

    def test_unknown_route_is_missing_authentication_token(self, stack: LocalStack) -> None:
        status, _headers, body = http(stack.url + "/", method="POST")  # GET / is the index
        assert status == 403
        assert json.loads(body) == {"message": "Missing Authentication Token"}
        # /{proxy+} takes every other path, so without a token API Gateway answers 401
        status, _, body = http(stack.url + "/rest/v3/endringssett")
        assert status == 401 and json.loads(body) == {"message": "Unauthorized"}

    def test_health_reaches_the_api_function(self, stack: LocalStack) -> None:
        module = stack.runtime.module(stack.functions["ApiFunction"])
        if not hasattr(module, "lambda_handler"):
            pytest.skip("functions/api/app.py is still a placeholder without lambda_handler")
        status, headers, _ = http(stack.url + "/health", headers={"X-Request-ID": "req-123"})
        assert status == 200
        assert headers.get("X-Request-ID") == "req-123"

    def test_a_client_resetting_its_kept_alive_connection_prints_no_traceback(
            self, stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
        host, port = urllib.parse.urlsplit(stack.url).netloc.split(":")
        with socket.create_connection((host, int(port))) as conn:
            conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert conn.recv(65536).startswith(b"HTTP/1.1 200")
            # Close with a reset (linger 0) while the server waits for the next request on it.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        time.sleep(0.3)
        assert http(stack.url + "/health")[0] == 200  # still serving
        assert "Traceback" not in capsys.readouterr().err

    def test_sample_events_run_through_the_handlers(self, stack: LocalStack) -> None:
        from vegskriv.auth import issue_dev_token

        for name in ("ApiFunction", "AuthorizerFunction"):
            if not hasattr(stack.runtime.module(stack.functions[name]), "lambda_handler"):
                pytest.skip(f"{name} is still a placeholder")
        health = json.loads((ROOT / "events" / "api_health.json").read_text(encoding="utf-8"))
        assert stack.invoke("ApiFunction", health)["statusCode"] == 200
        token_event = json.loads((ROOT / "events" / "authorizer_token.json").read_text(encoding="utf-8"))
        token_event["authorizationToken"] = "Bearer " + issue_dev_token("olanor", ["0_bruker_fagdata"])
        policy = stack.invoke("AuthorizerFunction", token_event)
        assert policy["principalId"] == "olanor"
        assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"


    def test_two_users_racing_on_the_api_are_not_mixed_up(self, stack: LocalStack) -> None:
        """While X registers large changesets, Y's GETs run the same handler: every changeset X
        registered must be owned by X (readable by X, a 404 for Y)."""
        import threading

        from tests.support.client import Client, changeset, kum

        x, y = Client(stack.url, "xbruker"), Client(stack.url, "ybruker")
        big = json.dumps(changeset(registrer=[kum(f"kum#{n}") for n in range(1500)]))
        done = threading.Event()
        y_statuses: list[int] = []

        def y_reads() -> None:
            while not done.is_set():
                y_statuses.append(y.request("GET", "/rest/v3/endringssett").status_code)

        reader = threading.Thread(target=y_reads)
        reader.start()
        try:
            ids = []
            for _ in range(3):
                r = x.request("POST", "/rest/v3/endringssett", data=big)
                assert r.status_code == 201, r.text
                ids.append(r.headers["Location"].rsplit("/", 1)[1])
        finally:
            done.set()
            reader.join()
        assert y_statuses and set(y_statuses) == {200}
        for changeset_id in ids:
            assert x.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdrift").status_code == 200
            assert y.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdrift").status_code == 404


# --------------------------------------------------------------------------- a mini template

MINI_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: test
Globals:
  Function:
    Runtime: python3.12
    Handler: app.lambda_handler
    Timeout: 30
    Environment:
      Variables:
        QUEUE_URL: !Ref Queue
        FROM_GLOBALS: "yes"
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      Auth:
        DefaultAuthorizer: TokenAuth
        Authorizers:
          TokenAuth:
            FunctionArn: !GetAtt AuthFunction.Arn
            FunctionPayloadType: TOKEN
            Identity:
              Header: Authorization
              ReauthorizeEvery: 0
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fns/echo
      Environment:
        Variables:
          LOCAL_ONLY: echo
      Events:
        Hello:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /hello/{name}
            Method: GET
        Open:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /open
            Method: ANY
            Auth:
              Authorizer: NONE
        Proxy:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /{proxy+}
            Method: ANY
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fns/auth
  BoomFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fns/boom
  ConsumerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fns/consumer
      Events:
        Batch:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 10
            FunctionResponseTypes:
              - ReportBatchItemFailures
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 180
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt DeadLetters.Arn
        maxReceiveCount: 2
  DeadLetters:
    Type: AWS::SQS::Queue
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: pk
          AttributeType: S
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
  WatchFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fns/watch
      Events:
        Ended:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [aws.states]
              detail-type: [Step Functions Execution Status Change]
              detail:
                status: [SUCCEEDED]
                stateMachineArn: [!Ref Machine]
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Type: STANDARD
      DefinitionUri: machine.asl.json
      DefinitionSubstitutions:
        BoomArn: !GetAtt BoomFunction.Arn
        EchoArn: !GetAtt EchoFunction.Arn
"""

MINI_ASL = {
    "StartAt": "Boom",
    "States": {
        "Boom": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${BoomArn}", "Payload.$": "$"},
            "ResultPath": "$.r",
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"}],
            "Next": "Done",
        },
        "Recover": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${EchoArn}", "Payload": {"recovered.$": "$.error.Error"}},
            "ResultSelector": {"echo.$": "$.Payload"},
            "ResultPath": "$.recovered",
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}

FUNCTIONS = {
    "watch": """
        EVENTS = []

        def lambda_handler(event, context):
            EVENTS.append(event)
    """,
    "echo": """
        import os
        CALLS = []

        def lambda_handler(event, context):
            CALLS.append(event)
            if "httpMethod" in event:
                return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
                        "body": __import__("json").dumps({"event": event, "function": context.function_name,
                                                          "env": os.environ.get("LOCAL_ONLY")})}
            return {"seen": event, "fromGlobals": os.environ.get("FROM_GLOBALS")}
    """,
    "auth": """
        def lambda_handler(event, context):
            token = event["authorizationToken"]
            if token not in ("allow", "deny"):
                raise Exception("Unauthorized")
            effect = "Allow" if token == "allow" else "Deny"
            return {"principalId": "olanor",
                    "policyDocument": {"Version": "2012-10-17", "Statement": [
                        {"Action": "execute-api:Invoke", "Effect": effect,
                         "Resource": event["methodArn"].split("/", 1)[0] + "/*/*"}]},
                    "context": {"user": "olanor", "roles": "0_bruker_fagdata", "level": 3}}
    """,
    "boom": """
        class WorkflowBroke(Exception):
            pass

        def lambda_handler(event, context):
            raise WorkflowBroke("it broke: " + str(event.get("why", "")))
    """,
    "consumer": """
        import json
        CALLS = []

        def lambda_handler(event, context):
            failures = []
            for record in event["Records"]:
                body = json.loads(record["body"])
                count = int(record["attributes"]["ApproximateReceiveCount"])
                CALLS.append((body["n"], count, record["eventSourceARN"]))
                if body.get("fail") == "always" or (body.get("fail") == "once" and count == 1):
                    failures.append({"itemIdentifier": record["messageId"]})
            return {"batchItemFailures": failures}
    """,
}


@pytest.fixture(scope="module")
def mini_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mini")
    (root / "template.yaml").write_text(MINI_TEMPLATE, encoding="utf-8")
    (root / "machine.asl.json").write_text(json.dumps(MINI_ASL), encoding="utf-8")
    for name, code in FUNCTIONS.items():
        (root / "fns" / name).mkdir(parents=True)
        (root / "fns" / name / "app.py").write_text(textwrap.dedent(code), encoding="utf-8")
    return root


@pytest.fixture(scope="class")
def mini_stack(mini_project: Path) -> Any:
    with LocalStack(mini_project / "template.yaml", port=0, seed=False,
                    sqs_visibility_timeout=1) as stack:
        yield stack


class TestMiniTemplate:
    @pytest.fixture
    def stack(self, mini_stack: LocalStack) -> LocalStack:
        return mini_stack

    # -- Lambda invoke through moto --------------------------------------------------------

    def test_boto3_invoke_runs_the_handler_in_process(self, stack: LocalStack) -> None:
        lam = stack.client("lambda")
        response = lam.invoke(FunctionName="vegskriv-EchoFunction", Payload=json.dumps({"x": "ø"}))
        assert "FunctionError" not in response
        assert json.loads(response["Payload"].read()) == {"seen": {"x": "ø"}, "fromGlobals": "yes"}

    def test_a_raising_handler_is_an_unhandled_function_error(self, stack: LocalStack) -> None:
        lam = stack.client("lambda")
        response = lam.invoke(FunctionName="arn:aws:lambda:eu-north-1:123456789012:function:vegskriv-BoomFunction",
                              Payload=json.dumps({"why": "test"}))
        assert response["FunctionError"] == "Unhandled"
        payload = json.loads(response["Payload"].read())
        assert payload["errorType"] == "WorkflowBroke"
        assert payload["errorMessage"] == "it broke: test"
        assert isinstance(payload["stackTrace"], list) and payload["stackTrace"]

    def test_step_functions_catch_sees_the_handler_exception(self, stack: LocalStack) -> None:
        sfn = stack.client("stepfunctions")
        arn = stack.state_machine_arns["Machine"]
        execution = sfn.start_execution(stateMachineArn=arn, name="exec-1", input=json.dumps({"why": "sfn"}))

        def finished() -> Any:
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            return described if described["status"] != "RUNNING" else None

        described = wait_for(finished)
        assert described, "execution did not finish"
        assert described["status"] == "SUCCEEDED", described
        output = json.loads(described["output"])
        assert output["recovered"]["echo"]["seen"] == {"recovered": "WorkflowBroke"}
        assert output["error"]["Error"] == "WorkflowBroke"
        assert json.loads(output["error"]["Cause"])["errorMessage"] == "it broke: sfn"

    def test_an_ended_execution_reaches_the_rule_target(self, stack: LocalStack) -> None:
        """moto emits no status changes and calls no Lambda targets; the stack's hooks do both."""
        watcher = stack.runtime.module(stack.functions["WatchFunction"])
        sfn = stack.client("stepfunctions")
        arn = stack.state_machine_arns["Machine"]
        execution = sfn.start_execution(stateMachineArn=arn, name="watched", input=json.dumps({"why": "rule"}))
        assert wait_for(lambda: [e for e in watcher.EVENTS if e["detail"]["name"] == "watched"])
        (event,) = [e for e in watcher.EVENTS if e["detail"]["name"] == "watched"]
        assert (event["source"], event["detail-type"]) == ("aws.states", "Step Functions Execution Status Change")
        assert event["resources"] == [execution["executionArn"]]
        detail = event["detail"]
        assert (detail["status"], detail["stateMachineArn"]) == ("SUCCEEDED", arn)
        assert json.loads(detail["input"]) == {"why": "rule"}
        assert json.loads(detail["output"])["recovered"]["echo"]["seen"] == {"recovered": "WorkflowBroke"}

    def test_conditional_writes_are_atomic_across_threads(self, stack: LocalStack) -> None:
        """Without the local stack's DynamoDB lock moto lets 2-4 of 16 racing writers "win"
        (seen with a tiny thread switch interval); with it exactly one does."""
        import sys
        from concurrent.futures import ThreadPoolExecutor

        from botocore.exceptions import ClientError

        ddb = stack.client("dynamodb")
        table = stack.table_names["Table"]

        def claim(worker: int) -> bool:
            try:
                ddb.update_item(TableName=table, Key={"pk": {"S": "lock"}}, UpdateExpression="SET eier = :w",
                                ExpressionAttributeValues={":w": {"N": str(worker)}},
                                ConditionExpression="attribute_not_exists(eier)")
                return True
            except ClientError as err:
                assert err.response["Error"]["Code"] == "ConditionalCheckFailedException"
                return False

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            for _ in range(20):
                ddb.delete_item(TableName=table, Key={"pk": {"S": "lock"}})
                with ThreadPoolExecutor(max_workers=16) as pool:
                    assert list(pool.map(claim, range(16))).count(True) == 1
        finally:
            sys.setswitchinterval(interval)

    # -- the local API Gateway -------------------------------------------------------------

    def test_unknown_route(self, stack: LocalStack) -> None:
        status, _, body = http(stack.url + "/")
        assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})

    def test_a_method_api_gateway_does_not_have_is_not_a_server_error(self, stack: LocalStack) -> None:
        for method in ("TRACE", "CONNECT", "BREW"):
            status, _, body = http(stack.url + "/open", method=method)
            assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})

    def test_open_route_skips_the_authorizer(self, stack: LocalStack) -> None:
        status, _headers, body = http(stack.url + "/open?a=1&a=2&b=", method="POST", body=b'{"k": 1}',
                                     headers={"Content-Type": "application/json"})
        assert status == 200
        event = json.loads(body)["event"]
        assert event["resource"] == "/open" and event["httpMethod"] == "POST"
        assert event["queryStringParameters"] == {"a": "2", "b": ""}
        assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
        assert event["body"] == '{"k": 1}' and event["isBase64Encoded"] is False
        assert "authorizer" not in event["requestContext"]
        assert json.loads(body)["env"] == "echo"

    def test_missing_and_invalid_tokens(self, stack: LocalStack) -> None:
        status, _, body = http(stack.url + "/hello/x")
        assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
        status, _, body = http(stack.url + "/hello/x", headers={"Authorization": "nope"})
        assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
        status, _, body = http(stack.url + "/hello/x", headers={"Authorization": "deny"})
        assert (status, json.loads(body)) == (403, {"message": "User is not authorized to access this resource"})

    def test_authorized_request_becomes_a_rest_proxy_event(self, stack: LocalStack) -> None:
        path = "/hello/" + urllib.parse.quote("fremdriftOgÅrsak")
        status, headers, body = http(stack.url + path + "?q=l%C3%A5s", headers={
            "Authorization": "allow", "X-Request-ID": "abc-123"})
        assert status == 200, body
        assert headers["X-Request-ID"] == "abc-123"
        event = json.loads(body)["event"]
        assert event["path"] == "/hello/fremdriftOgÅrsak"
        assert event["resource"] == "/hello/{name}"
        assert event["pathParameters"] == {"name": "fremdriftOgÅrsak"}
        assert event["queryStringParameters"] == {"q": "lås"}
        assert event["headers"]["Authorization"] == "allow"
        assert event["multiValueHeaders"]["Authorization"] == ["allow"]
        ctx = event["requestContext"]
        assert ctx["stage"] == "test" and ctx["path"] == "/test/hello/fremdriftOgÅrsak"
        assert ctx["requestId"] == "abc-123" and ctx["identity"]["sourceIp"] == "127.0.0.1"
        assert ctx["authorizer"]["principalId"] == "olanor"
        assert ctx["authorizer"]["user"] == "olanor" and ctx["authorizer"]["level"] == "3"
        assert json.loads(body)["function"] == "vegskriv-EchoFunction"

    def test_greedy_proxy_and_binary_body(self, stack: LocalStack) -> None:
        status, _headers, body = http(stack.url + "/rest/v1/l%C3%A5s/1", method="PUT", body=b"\xff\x00",
                                     headers={"Authorization": "allow"})
        assert status == 200
        event = json.loads(body)["event"]
        assert event["resource"] == "/{proxy+}"
        assert event["pathParameters"] == {"proxy": "rest/v1/lås/1"}
        assert event["isBase64Encoded"] is True and event["body"] == "/wA="

    def test_multi_value_response_headers(self, stack: LocalStack) -> None:
        request = urllib.request.Request(stack.url + "/open")
        with urllib.request.urlopen(request) as response:
            assert response.headers.get_all("Set-Cookie") == ["a=1", "b=2"]

    # -- SQS event source --------------------------------------------------------------------

    def test_only_failed_records_are_redelivered(self, stack: LocalStack) -> None:
        consumer = stack.runtime.module(stack.functions["ConsumerFunction"])
        consumer.CALLS.clear()
        sqs = stack.client("sqs")
        url = stack.queue_urls["Queue"]
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "1", "MessageBody": json.dumps({"n": "ok"})},
            {"Id": "2", "MessageBody": json.dumps({"n": "flaky", "fail": "once"})},
        ])
        assert wait_for(lambda: [c for c in consumer.CALLS if c[0] == "flaky" and c[1] == 2], timeout=15)
        time.sleep(1.5)  # > visibility timeout: nothing else may come back
        calls = [(n, count) for n, count, _ in consumer.CALLS]
        assert sorted(calls) == [("flaky", 1), ("flaky", 2), ("ok", 1)]
        assert consumer.CALLS[0][2] == "arn:aws:sqs:eu-north-1:123456789012:vegskriv-Queue"
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attrs["ApproximateNumberOfMessages"] == "0"
        assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"

    def test_poison_message_moves_to_the_dead_letter_queue(self, stack: LocalStack) -> None:
        consumer = stack.runtime.module(stack.functions["ConsumerFunction"])
        consumer.CALLS.clear()
        sqs = stack.client("sqs")
        sqs.send_message(QueueUrl=stack.queue_urls["Queue"],
                         MessageBody=json.dumps({"n": "poison", "fail": "always"}))
        dlq = stack.queue_urls["DeadLetters"]

        def in_dlq() -> Any:
            attrs = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
            return attrs["Attributes"]["ApproximateNumberOfMessages"] == "1"

        assert wait_for(in_dlq, timeout=15)
        assert [count for n, count, _ in consumer.CALLS if n == "poison"] == [1, 2]  # maxReceiveCount 2

    # -- bursts ------------------------------------------------------------------------------

    def test_a_burst_of_simultaneous_connections_is_all_answered(self, stack: LocalStack) -> None:
        """API Gateway takes bursts: 30 clients connecting at the same instant all get an answer."""
        import http.client
        import threading
        from concurrent.futures import ThreadPoolExecutor

        host, port = stack.url.removeprefix("http://").split(":")
        clients = 30
        barrier = threading.Barrier(clients)

        def post(n: int) -> int | str:
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            barrier.wait()
            try:
                connection.request("POST", "/open", body=json.dumps({"n": n}),
                                   headers={"Content-Type": "application/json"})
                return connection.getresponse().status
            except OSError as exc:
                return type(exc).__name__
            finally:
                connection.close()

        for _ in range(3):
            with ThreadPoolExecutor(max_workers=clients) as pool:
                answers = list(pool.map(post, range(clients)))
            assert answers == [200] * clients
