"""The whole system on one machine: moto in-process + the resources of ``template.yaml``.

``LocalStack`` translates the template with SAM and creates it with moto's CloudFormation (one
source of truth — there is no second list of resources, see :mod:`vegskriv.local.translate`), runs
the Lambda handlers in-process (Step Functions tasks, SQS event sources and the REST API all end in
the Python handler named by CodeUri/Handler) and serves the REST API on 127.0.0.1.

Lambda code never imports this package.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from vegskriv.local import translate
from vegskriv.local.apigw import LocalApiGateway
from vegskriv.local.moto_patches import (
    DYNAMODB_LOCK,
    EXPRESSION_LOCK,
    SQS_LOCK,
    Patches,
    get_header,
    locked,
    locked_long_poll,
)
from vegskriv.local.persistence import TableSnapshots, resume_interrupted
from vegskriv.local.runtime import FunctionError, FunctionRuntime
from vegskriv.local.sqs_poller import SqsPoller
from vegskriv.local.template import LOCAL_REGION, LOCAL_STACK_NAME, FunctionSpec, Template

log = logging.getLogger("vegskriv_local")

def find_template(start: str | Path | None = None) -> Path:
    """``template.yaml`` in the current directory (or a parent), else next to this package."""
    here = Path(start or os.getcwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "template.yaml"
        if candidate.is_file():
            return candidate
    package_dir = Path(__file__).resolve().parent
    for directory in package_dir.parents:
        candidate = directory / "template.yaml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("template.yaml not found (pass --template)")


def local_environment() -> dict[str, str]:
    """Environment the local stack adds on top of the template's function environment."""
    from vegskriv.auth import LOCAL_DEV_SECRET

    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
        "JWT_SECRET": LOCAL_DEV_SECRET,
        "JWT_JWKS_URL": "",
        "JWT_ISSUER": "vegskriv-local",  # what vegskriv.auth.issue_dev_token signs
        "JWT_AUDIENCE": "vegskriv",
        # /rest/v1/oidc/authenticate (password = user name): two administrators besides the default role.
        "OIDC_LOCAL_USERS": '{"systemadmin": ["9_system_admin"], "fagadmin": ["5_fagdata_admin"]}',
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }


class LocalStack:
    """moto + template resources + in-process handlers + local REST API.

    ``with LocalStack(port=0) as stack: requests.get(stack.url + "/health")``
    """

    _active: LocalStack | None = None

    def __init__(self, template: str | Path | None = None, *, project_root: str | Path | None = None,
                 host: str = "127.0.0.1", port: int = 3000, moto_port: int | None = None,
                 parameters: dict[str, str] | None = None, env: dict[str, str] | None = None,
                 sqs_visibility_timeout: int | None = None, seed: bool = True,
                 serve_api: bool = True, run_pollers: bool = True, data_dir: str | Path | None = None,
                 data_interval: float = 1.0, run_schedules: bool = False,
                 schedule_every: float | None = None) -> None:
        self.template_path = Path(template) if template else find_template()
        self.template = Template(self.template_path, project_root=project_root,
                                 parameters=parameters)
        self.region = self.template.region
        self.host = host
        self.port = port
        self.moto_port = moto_port
        self.extra_env = env or {}
        self.sqs_visibility_timeout = sqs_visibility_timeout
        self.seed = seed
        self.serve_api = serve_api
        self.run_pollers = run_pollers
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.data_interval = data_interval
        # Off unless asked (`vegskriv local` asks): a test stack must not start a nightly run at 02:00.
        self.run_schedules = run_schedules or schedule_every is not None
        self.schedule_every = schedule_every
        self.scheduler: Any = None
        self.snapshots: TableSnapshots | None = None
        self.functions: dict[str, FunctionSpec] = {}  # known once moto has created them (start)
        self.runtime = FunctionRuntime(self.functions)
        self.api: LocalApiGateway | None = None
        self.pollers: list[SqsPoller] = []
        self.queue_urls: dict[str, str] = {}
        self.table_names: dict[str, str] = {}
        self.state_machine_arns: dict[str, str] = {}
        self.resources: dict[str, dict[str, Any]] = {}  # logical id -> moto's stack resource summary
        self.startup_seconds: float | None = None
        self._mock: Any = None
        self._moto_server: Any = None
        self._patches = Patches()
        self._saved_env: dict[str, str | None] = {}
        self._added_sys_path: list[str] = []
        self._started = False

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self.api is None:
            raise RuntimeError("the REST API is not being served (serve_api=False or not started)")
        return self.api.url

    def start(self) -> LocalStack:
        if LocalStack._active is not None:
            raise RuntimeError("another LocalStack is running in this process (moto state is global)")
        began = time.monotonic()
        LocalStack._active = self
        try:
            self._set_env(local_environment())
            self._install_patches()
            from moto import mock_aws

            self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                          "lambda": {"use_docker": False}})
            self._mock.start()
            self._set_env(local_environment())  # mock_aws swaps in its own fake credentials
            if self.moto_port is not None or self.serve_api:  # serve_api: presigned upload URLs name it
                self._start_moto_server()
            self._add_layers_to_sys_path()
            self._create_resources()
            self._set_env(self._function_environment())
            self._set_env(self.extra_env)
            self._clear_settings_cache()
            loaded = self._load_data()
            if self.seed and not loaded:
                self._seed()
            if self.run_pollers:
                self._start_pollers()
            if self.run_schedules:
                self._start_schedules()
            if self.serve_api:
                self.api = LocalApiGateway(self.template, self.runtime, host=self.host, port=self.port)
                self.api.start()
            if loaded:
                resume_interrupted(self.runtime, self.client("events"), self.template.account, self.region)
            if self.snapshots is not None:
                self.snapshots.start()
            self._started = True
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        log.info("local stack ready in %.2fs", self.startup_seconds)
        return self

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        if self.api is not None:
            self.api.stop()
            self.api = None
        for poller in self.pollers:
            poller.stop()
        self.pollers = []
        if self.snapshots is not None:
            # a start that failed half-way must not overwrite the saved data with what it had loaded
            self.snapshots.stop(save=self._started)
            self.snapshots = None
        if self._moto_server is not None:
            try:
                self._moto_server.stop()
            except Exception:  # pragma: no cover - best effort
                log.debug("moto server stop failed", exc_info=True)
            self._moto_server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self._patches.undo()
        for path in self._added_sys_path:
            if path in sys.path:
                sys.path.remove(path)
        self._added_sys_path = []
        self._restore_env()
        self._clear_settings_cache()
        if LocalStack._active is self:
            LocalStack._active = None
        self._started = False

    # ------------------------------------------------------------------ clients

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=self.region)  # type: ignore[call-overload]

    def invoke(self, function: str, event: Any) -> Any:
        """Invoke a template function in-process (by logical id, name or ARN)."""
        spec = self.runtime.find(function)
        if spec is None:
            raise KeyError(f"no function {function!r} in {self.template_path}")
        return self.runtime.invoke(spec, event)

    # ------------------------------------------------------------------ environment

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            if key not in self._saved_env:
                self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}

    def _function_environment(self) -> dict[str, str]:
        """The union of every function's environment (all handlers share one process)."""
        merged: dict[str, str] = {}
        for spec in self.functions.values():
            for key, value in spec.environment.items():
                if key in merged and merged[key] != value:
                    log.warning("env %s differs between functions (%r vs %r); using %r",
                                key, merged[key], value, merged[key])
                    continue
                merged[key] = value
        local = local_environment()
        merged.update({k: v for k, v in local.items() if k.startswith(("JWT_", "POWERTOOLS_T",
                                                                         "POWERTOOLS_M", "AWS_"))})
        return merged

    @staticmethod
    def _clear_settings_cache() -> None:
        settings = sys.modules.get("vegskriv.settings")
        get_settings = getattr(settings, "get_settings", None)
        if get_settings is not None and hasattr(get_settings, "cache_clear"):
            get_settings.cache_clear()

    def _add_layers_to_sys_path(self) -> None:
        for lid in self.template.logical_ids("AWS::Lambda::LayerVersion"):
            content = self.template.translated["Resources"][lid]["Properties"].get("Content") or {}
            if content.get("S3Bucket") == translate.CODE_BUCKET:
                path = str((self.template.root / str(content["S3Key"])).resolve())
                if Path(path).is_dir() and path not in sys.path:
                    sys.path.append(path)
                    self._added_sys_path.append(path)

    # ------------------------------------------------------------------ moto patches

    def _install_patches(self) -> None:
        import moto.stepfunctions.models as stepfunctions_models
        from moto.awslambda_simple.models import LambdaSimpleBackend
        from moto.dynamodb.responses import DynamoHandler
        from moto.sqs.models import SQSBackend
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        from vegskriv.local import events

        # moto's CloudFormation puts state machines into the backend that does not run them.
        self._patches.replace(stepfunctions_models, "stepfunctions_backends", stepfunctions_parser_backends)
        events.install(self._patches)

        original_invoke = LambdaSimpleBackend.__dict__["invoke"]

        @functools.wraps(original_invoke)
        def invoke(backend: Any, function_name: str, qualifier: str | None, body: Any,
                   headers: Any, response_headers: dict[str, Any]) -> Any:
            stack = LocalStack._active
            spec = stack.runtime.find(function_name) if stack is not None else None
            if stack is None or spec is None:
                return original_invoke(backend, function_name, qualifier, body, headers, response_headers)
            return stack._lambda_invoke(spec, body, headers, response_headers)

        self._patches.replace(LambdaSimpleBackend, "invoke", invoke)

        original_call_action = DynamoHandler.__dict__["call_action"]

        @functools.wraps(original_call_action)
        def call_action(handler: Any) -> Any:
            with DYNAMODB_LOCK:
                stack = LocalStack._active
                if stack is not None and stack.snapshots is not None:
                    target = str(handler.headers.get("X-Amz-Target") or "")
                    if not target.rpartition(".")[2].startswith(_DYNAMODB_READS):
                        stack.snapshots.writes += 1
                return original_call_action(handler)

        self._patches.replace(DynamoHandler, "call_action", call_action)
        from vegskriv.local import moto_query

        moto_query.install(self._patches)  # moto sorts the whole table per Query, serializes slowly

        # On Lambda one event at a time uses a boto3 resource; here the functions share one process
        # (and the store's cached resources), and boto3 builds every condition expression with one
        # shared builder per client that it resets first: two threads mix up their placeholders
        # ("Query condition missed key schema element: pk"). Build them one at a time.
        from boto3.dynamodb.transform import TransformationInjector

        self._patches.replace(TransformationInjector, "inject_condition_expressions", locked(
            TransformationInjector.__dict__["inject_condition_expressions"], EXPRESSION_LOCK))

        for name in ("send_message", "send_message_batch", "delete_message", "delete_message_batch",
                     "change_message_visibility", "change_message_visibility_batch", "purge_queue"):
            self._patches.replace(SQSBackend, name, locked(SQSBackend.__dict__[name], SQS_LOCK))
        self._patches.replace(SQSBackend, "receive_message",
                              locked_long_poll(SQSBackend.__dict__["receive_message"]))

    def _lambda_invoke(self, spec: Any, body: Any, headers: Any, response_headers: dict[str, Any]) -> bytes:
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        event = json.loads(body) if body else {}
        invocation_type = get_header(headers, "X-Amz-Invocation-Type") or "RequestResponse"
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            def run() -> None:
                try:
                    self.runtime.invoke(spec, event)
                except FunctionError as err:
                    log.error("async invoke of %s failed: %s", spec.logical_id, err)

            threading.Thread(target=run, daemon=True, name=f"invoke-{spec.logical_id}").start()
            return b""
        try:
            result = self.runtime.invoke(spec, event)
            return json.dumps(result).encode("utf-8")
        except FunctionError as err:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(err.payload).encode("utf-8")
        except (TypeError, ValueError) as exc:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorMessage": f"Unable to marshal response: {exc}",
                               "errorType": "Runtime.MarshalError", "stackTrace": []}).encode("utf-8")

    def _start_moto_server(self) -> None:
        from moto.server import ThreadedMotoServer

        self._moto_server = ThreadedMotoServer(ip_address=self.host, port=int(self.moto_port or 0),
                                               verbose=False)
        self._moto_server.start()
        host, port = self._moto_server.get_host_and_port()
        self._set_env({"OPPLASTING_S3_URL": f"http://{host}:{port}"})  # store/uploads.py presigns for it

    # ------------------------------------------------------------------ resources

    def _create_resources(self) -> None:
        """Let moto's CloudFormation create the translated template, then read back what it made."""
        cfn = translate.creatable(self.template.translated)
        for resource in cfn["Resources"].values():
            if resource["Type"] == "AWS::SQS::Queue" and self.sqs_visibility_timeout is not None:
                resource["Properties"]["VisibilityTimeout"] = self.sqs_visibility_timeout
        s3 = self.client("s3")
        s3.create_bucket(Bucket=translate.CODE_BUCKET,
                         CreateBucketConfiguration={"LocationConstraint": self.region})
        for key in translate.code_keys(cfn):  # moto wants the code to exist; the handlers run in-process
            s3.put_object(Bucket=translate.CODE_BUCKET, Key=key, Body=_dummy_zip())
        cloudformation = self.client("cloudformation")
        cloudformation.create_stack(
            StackName=LOCAL_STACK_NAME, TemplateBody=json.dumps(cfn),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in self.template.parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
        stack = cloudformation.describe_stacks(StackName=LOCAL_STACK_NAME)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(f"moto could not create the stack: {stack['StackStatus']} "
                               f"{stack.get('StackStatusReason', '')}")
        paginator = cloudformation.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=LOCAL_STACK_NAME):
            for resource in page["StackResourceSummaries"]:
                self.resources[resource["LogicalResourceId"]] = resource
        by_type = {"AWS::SQS::Queue": self.queue_urls, "AWS::DynamoDB::Table": self.table_names,
                   "AWS::StepFunctions::StateMachine": self.state_machine_arns}
        for lid, resource in self.resources.items():
            if resource["ResourceType"] in by_type:
                by_type[resource["ResourceType"]][lid] = resource["PhysicalResourceId"]
        self._complete_tables(cfn)
        self.template.created(self.resources, self.client)
        self.functions = self.template.functions
        self.runtime = FunctionRuntime(self.functions)

    def _complete_tables(self, cfn: dict[str, Any]) -> None:
        """Table settings moto's CloudFormation ignores: time to live and point-in-time recovery."""
        ddb = self.client("dynamodb")
        for lid, name in self.table_names.items():
            props = cfn["Resources"][lid]["Properties"]
            ttl = props.get("TimeToLiveSpecification") or {}
            if ttl.get("Enabled"):
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                    "AttributeName": ttl["AttributeName"], "Enabled": True})
            if (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
                ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
                    "PointInTimeRecoveryEnabled": True})

    # ------------------------------------------------------------------ --data

    def _load_data(self) -> bool:
        """Load the saved tables of ``data_dir``; True if there were any."""
        if self.data_dir is None:
            return False
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[self.template.account][self.region]

        def items(name: str) -> list[dict[str, Any]]:
            # moto's own items: a scan through the API pages quadratically (17 s for 10,000 items)
            return [item.to_regular_json() for item in backend.get_table(name).all_items()]

        self.snapshots = TableSnapshots(self.data_dir, self.client("dynamodb"),
                                        list(self.table_names.values()), DYNAMODB_LOCK, items,
                                        interval=self.data_interval)
        counts = self.snapshots.load()
        if counts:
            log.info("loaded %d items of %d tables from %s", sum(counts.values()), len(counts),
                     self.snapshots.path)
        return bool(counts)

    # ------------------------------------------------------------------ seeding, pollers

    def _seed(self) -> None:
        try:
            import vegskriv.store.reference as reference
        except ImportError as exc:
            log.warning("not seeding: vegskriv.store.reference is not available (%s)", exc)
            return
        seed_defaults = getattr(reference, "seed_defaults", None)
        if seed_defaults is None:
            log.warning("not seeding: vegskriv.store.reference has no seed_defaults()")
            return
        seed_defaults()
        log.info("seeded the reference table (catalog and sample road network)")

    def _start_pollers(self) -> None:
        sqs = self.client("sqs")
        for source in self.template.sqs_event_sources(self.client):
            url = self.queue_urls[source.queue_logical_id]
            poller = SqsPoller(source, url, self.runtime, sqs, self.region)
            poller.start()
            self.pollers.append(poller)

    def _start_schedules(self) -> None:
        from vegskriv.local.schedules import Scheduler, schedules_of, start_target

        self.scheduler = Scheduler(schedules_of(self.client("scheduler")), start_target(self.client),
                                   every=self.schedule_every)
        self.scheduler.start()


# DynamoDB actions that change nothing (everything else makes --data save a new snapshot).
_DYNAMODB_READS = ("Get", "BatchGet", "Query", "Scan", "Describe", "List", "TransactGet")


@functools.cache
def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", "def lambda_handler(event, context):\n"
                              "    raise RuntimeError('vegskriv local stack runs handlers in-process')\n")
    return buffer.getvalue()
