"""Read ``template.yaml`` the way CloudFormation/SAM would, for the local stack.

* A YAML loader that turns CloudFormation short tags (``!Ref``, ``!GetAtt``, ``!Sub`` …) into
  their long forms (``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}`` …).
* Intrinsic functions are resolved against *local* physical names: every table, queue, function
  and state machine is called ``vegskriv-<LogicalId>`` in region eu-north-1 of moto's default
  account.
* SAM ``Globals.Function`` is applied to every ``AWS::Serverless::Function`` (scalars are
  overridden, maps merged, lists appended — the SAM rules).

Nothing here talks to AWS or moto; :mod:`vegskriv.local.stack` creates the resources.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

LOCAL_REGION = "eu-north-1"
LOCAL_ACCOUNT = "123456789012"
LOCAL_PREFIX = "vegskriv"
LOCAL_STACK_NAME = "vegskriv"

_NO_VALUE = object()  # AWS::NoValue


# --------------------------------------------------------------------------- YAML loading


class CfnYamlLoader(yaml.SafeLoader):
    """SafeLoader that knows the CloudFormation short-form intrinsic tags."""


def _construct_tag(loader: yaml.Loader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    long_name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            # !GetAtt Resource.Attribute (the attribute itself may contain dots)
            resource, _, attribute = str(value).partition(".")
            value = [resource, attribute]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Condition":
        return {"Condition": value}
    return {long_name: value}


CfnYamlLoader.add_multi_constructor("!", _construct_tag)


def load_template_file(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=CfnYamlLoader)
    if not isinstance(doc, dict) or "Resources" not in doc:
        raise ValueError(f"{path} is not a CloudFormation/SAM template (no Resources)")
    return doc


# --------------------------------------------------------------------------- SAM globals


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return [*global_value, *local_value]
    return local_value


def apply_function_globals(globals_: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(globals_)
    for key, value in properties.items():
        merged[key] = _merge_globals(merged[key], value) if key in merged else value
    return merged


# --------------------------------------------------------------------------- model


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    events: dict[str, dict[str, Any]]
    properties: dict[str, Any] = field(repr=False)

    @property
    def module_file(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return self.code_dir / (module.replace(".", "/") + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass
class SqsEventSpec:
    function: FunctionSpec
    event_name: str
    queue_logical_id: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass
class ApiRouteSpec:
    function: FunctionSpec
    event_name: str
    api_logical_id: str | None
    path: str
    method: str  # upper case, "ANY" for any
    authorizer: str | None  # name of the authorizer to run, None = open


@dataclass
class AuthorizerSpec:
    name: str
    function_logical_id: str
    payload_type: str
    header: str
    ttl_seconds: int


class Template:
    """A parsed template with intrinsic functions resolved to local names."""

    def __init__(self, path: str | Path, *, project_root: str | Path | None = None,
                 parameters: dict[str, str] | None = None, region: str = LOCAL_REGION,
                 account: str = LOCAL_ACCOUNT, prefix: str = LOCAL_PREFIX) -> None:
        self.path = Path(path).resolve()
        self.root = Path(project_root).resolve() if project_root else self.path.parent
        self.doc = load_template_file(self.path)
        self.region = region
        self.account = account
        self.prefix = prefix
        self.resources: dict[str, dict[str, Any]] = self.doc.get("Resources") or {}
        self.parameters = self._parameter_values(parameters or {})
        self.conditions: dict[str, bool] = {}
        for name in (self.doc.get("Conditions") or {}):
            self._condition(name)

    # ---------------------------------------------------------------- parameters/conditions

    def _parameter_values(self, overrides: dict[str, str]) -> dict[str, Any]:
        declared = self.doc.get("Parameters") or {}
        unknown = set(overrides) - set(declared)
        if unknown:
            raise ValueError(f"unknown template parameter(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            value = overrides.get(name, (spec or {}).get("Default"))
            if value is None:
                raise ValueError(f"template parameter {name} has no Default; pass it explicitly")
            values[name] = str(value)
        return values

    def _condition(self, name: str) -> bool:
        if name not in self.conditions:
            definition = (self.doc.get("Conditions") or {})[name]
            self.conditions[name] = bool(self._eval_condition(definition))
        return self.conditions[name]

    def _eval_condition(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            (key, value), = node.items()
            if key == "Condition":
                return self._condition(value)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in value)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._eval_condition(value[0])
            if key == "Fn::And":
                return all(self._eval_condition(v) for v in value)
            if key == "Fn::Or":
                return any(self._eval_condition(v) for v in value)
        return self.resolve(node)

    def resource_enabled(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return True if condition is None else self._condition(condition)

    # ---------------------------------------------------------------- names

    _NAME_PROPERTY: ClassVar[dict[str, str]] = {
        "AWS::DynamoDB::Table": "TableName",
        "AWS::SQS::Queue": "QueueName",
        "AWS::Serverless::Function": "FunctionName",
        "AWS::Serverless::StateMachine": "Name",
        "AWS::SNS::Topic": "TopicName",
        "AWS::Logs::LogGroup": "LogGroupName",
    }

    def physical_name(self, logical_id: str) -> str:
        """``vegskriv-<LogicalId>`` unless the template names the resource with a plain string."""
        resource = self.resources.get(logical_id) or {}
        explicit = (resource.get("Properties") or {}).get(self._NAME_PROPERTY.get(str(resource.get("Type")), ""))
        if isinstance(explicit, str):
            return explicit
        return f"{self.prefix}-{logical_id}"

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def ref(self, logical_id: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::StackName": LOCAL_STACK_NAME,
            "AWS::StackId": self._arn("cloudformation", f"stack/{LOCAL_STACK_NAME}/local"),
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        if logical_id in self.parameters:
            return self.parameters[logical_id]
        if logical_id not in self.resources:
            raise KeyError(f"Ref to unknown resource or parameter {logical_id!r}")
        kind = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        if kind == "AWS::SQS::Queue":
            return self.queue_url(logical_id)
        if kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            return self._arn("states", f"stateMachine:{name}")
        if kind == "AWS::SNS::Topic":
            return self._arn("sns", name)
        if kind in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            return self._arn("lambda", f"layer:{name}:1")
        if kind in ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi"):
            return "local"
        return name  # tables, functions, log groups, alarms, …

    def queue_url(self, logical_id: str) -> str:
        # The URL shape moto returns for a queue created in this region/account.
        return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.physical_name(logical_id)}"

    def get_att(self, logical_id: str, attribute: str) -> Any:
        kind = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        if attribute in ("Name", "QueueName", "FunctionName", "TableName", "TopicName"):
            return name
        if attribute == "QueueUrl":
            return self.queue_url(logical_id)
        if attribute == "Arn":
            arn_by_kind = {
                "AWS::SQS::Queue": ("sqs", name),
                "AWS::DynamoDB::Table": ("dynamodb", f"table/{name}"),
                "AWS::Serverless::Function": ("lambda", f"function:{name}"),
                "AWS::Lambda::Function": ("lambda", f"function:{name}"),
                "AWS::Serverless::StateMachine": ("states", f"stateMachine:{name}"),
                "AWS::StepFunctions::StateMachine": ("states", f"stateMachine:{name}"),
                "AWS::Logs::LogGroup": ("logs", f"log-group:{name}:*"),
                "AWS::SNS::Topic": ("sns", name),
                "AWS::CloudWatch::Alarm": ("cloudwatch", f"alarm:{name}"),
            }
            if kind in arn_by_kind:
                return self._arn(*arn_by_kind[kind])
        if attribute == "StreamArn" and kind == "AWS::DynamoDB::Table":
            return self._arn("dynamodb", f"table/{name}/stream/local")
        if attribute == "RootResourceId":
            return "root"
        raise KeyError(f"Fn::GetAtt {logical_id}.{attribute} is not supported locally ({kind})")

    # ---------------------------------------------------------------- intrinsic functions

    def resolve(self, node: Any) -> Any:
        """Resolve intrinsic functions in ``node`` (recursively); AWS::NoValue entries vanish."""
        value = self._resolve(node)
        return None if value is _NO_VALUE else value

    def _resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self._resolve(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                parts = value.split(".", 1) if isinstance(value, str) else self._resolve(value)
                return self.get_att(parts[0], parts[1])
            if key == "Fn::Sub":
                return self._sub(value)
            if key == "Fn::If":
                condition, when_true, when_false = value
                return self._resolve(when_true if self._condition(condition) else when_false)
            if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
                return self._eval_condition(node)
            if key == "Fn::Join":
                delimiter, items = value
                return str(delimiter).join(str(v) for v in self._resolve(items))
            if key == "Fn::Select":
                index, items = self._resolve(value)
                return items[int(index)]
            if key == "Fn::Split":
                delimiter, text = self._resolve(value)
                return str(text).split(delimiter)
            if key == "Fn::GetAZs":
                return [f"{self.region}{zone}" for zone in "abc"]
            if key == "Fn::Base64":
                import base64

                return base64.b64encode(str(self._resolve(value)).encode()).decode()
            if key == "Fn::ImportValue":
                raise KeyError(f"Fn::ImportValue {value!r} cannot be resolved locally")
        return {k: v for k, v in ((k, self._resolve(v)) for k, v in node.items()) if v is not _NO_VALUE}

    _SUB_VAR = re.compile(r"\$\{([^}]+)\}")

    def _sub(self, value: Any) -> str:
        if isinstance(value, list):
            text, variables = value[0], {k: self._resolve(v) for k, v in (value[1] or {}).items()}
        else:
            text, variables = value, {}

        def replace(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in variables:
                return str(variables[expr])
            if "." in expr and not expr.startswith("AWS::"):
                logical_id, attribute = expr.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(expr))

        return self._SUB_VAR.sub(replace, text)

    # ---------------------------------------------------------------- resources by kind

    def logical_ids(self, *kinds: str) -> list[str]:
        return [lid for lid, res in self.resources.items()
                if res.get("Type") in kinds and self.resource_enabled(lid)]

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resolve(self.resources[logical_id].get("Properties") or {})

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        raw = self.resources[logical_id].get("Properties") or {}
        if self.resources[logical_id]["Type"] == "AWS::Serverless::Function":
            raw = apply_function_globals((self.doc.get("Globals") or {}).get("Function") or {}, raw)
        return raw

    def functions(self) -> dict[str, FunctionSpec]:
        specs: dict[str, FunctionSpec] = {}
        for lid in self.logical_ids("AWS::Serverless::Function"):
            props = self.resolve(self.function_properties(lid))
            code_uri = props.get("CodeUri")
            if not isinstance(code_uri, str):
                raise ValueError(f"{lid}: only a local CodeUri directory is supported locally")
            env = ((props.get("Environment") or {}).get("Variables") or {})
            specs[lid] = FunctionSpec(
                logical_id=lid,
                name=self.ref(lid),
                arn=self.get_att(lid, "Arn"),
                code_dir=(self.root / code_uri).resolve(),
                handler=props.get("Handler", "app.lambda_handler"),
                runtime=props.get("Runtime", "python3.12"),
                timeout=int(props.get("Timeout", 3)),
                memory_size=int(props.get("MemorySize", 128)),
                environment={k: "" if v is None else str(v) for k, v in env.items()},
                events=props.get("Events") or {},
                properties=props,
            )
        return specs

    def sqs_event_sources(self, functions: dict[str, FunctionSpec] | None = None) -> list[SqsEventSpec]:
        functions = functions or self.functions()
        sources = []
        for spec in functions.values():
            raw_events = self.function_properties(spec.logical_id).get("Events") or {}
            for event_name, event in spec.events.items():
                if event.get("Type") != "SQS":
                    continue
                props = event.get("Properties") or {}
                queue_lid = _logical_id_of(raw_events[event_name]["Properties"]["Queue"])
                sources.append(SqsEventSpec(
                    function=spec, event_name=event_name, queue_logical_id=queue_lid,
                    queue_arn=str(props["Queue"]), batch_size=int(props.get("BatchSize", 10)),
                    report_batch_item_failures="ReportBatchItemFailures" in (
                        props.get("FunctionResponseTypes") or []),
                ))
        return sources

    def api_routes(self, functions: dict[str, FunctionSpec] | None = None) -> list[ApiRouteSpec]:
        functions = functions or self.functions()
        routes = []
        for spec in functions.values():
            raw_events = self.function_properties(spec.logical_id).get("Events") or {}
            for event_name, event in spec.events.items():
                if event.get("Type") != "Api":
                    continue
                props = event.get("Properties") or {}
                raw_api = (raw_events[event_name].get("Properties") or {}).get("RestApiId")
                api_lid = _logical_id_of(raw_api) if raw_api is not None else None
                routes.append(ApiRouteSpec(
                    function=spec, event_name=event_name, api_logical_id=api_lid,
                    path=props["Path"], method=str(props.get("Method", "ANY")).upper(),
                    authorizer=self._route_authorizer(api_lid, props),
                ))
        return routes

    def api_properties(self, api_logical_id: str | None) -> dict[str, Any]:
        if api_logical_id is None:
            return (self.doc.get("Globals") or {}).get("Api") or {}
        return self.properties(api_logical_id)

    def _route_authorizer(self, api_lid: str | None, event_props: dict[str, Any]) -> str | None:
        auth = event_props.get("Auth") or {}
        if "Authorizer" in auth:
            name = auth["Authorizer"]
            return None if name in (None, "NONE") else str(name)
        default = (self.api_properties(api_lid).get("Auth") or {}).get("DefaultAuthorizer")
        return str(default) if default else None

    def authorizers(self, api_logical_id: str | None) -> dict[str, AuthorizerSpec]:
        auth = self.api_properties(api_logical_id).get("Auth") or {}
        raw_auth = ((self.resources.get(api_logical_id or "", {}).get("Properties") or {}).get("Auth")
                    or {})
        specs = {}
        for name, props in (auth.get("Authorizers") or {}).items():
            raw_arn = (raw_auth.get("Authorizers") or {}).get(name, {}).get("FunctionArn")
            if raw_arn is None:
                continue  # Cognito/JWT authorizers have no function to run locally
            identity = props.get("Identity") or {}
            specs[name] = AuthorizerSpec(
                name=name, function_logical_id=_logical_id_of(raw_arn),
                payload_type=str(props.get("FunctionPayloadType", "TOKEN")).upper(),
                header=identity.get("Header", "Authorization"),
                ttl_seconds=int(identity.get("ReauthorizeEvery", 300)),
            )
        return specs

    def stage_name(self, api_logical_id: str | None) -> str:
        return str(self.api_properties(api_logical_id).get("StageName") or "Prod")


def _logical_id_of(node: Any) -> str:
    """The logical id a Ref/GetAtt/Sub node points at (e.g. ``!GetAtt StartQueue.Arn`` → StartQueue)."""
    if isinstance(node, dict) and len(node) == 1:
        (key, value), = node.items()
        if key == "Ref":
            return str(value)
        if key == "Fn::GetAtt":
            return str(value[0] if isinstance(value, list) else value.split(".")[0])
        if key == "Fn::Sub":
            text = value[0] if isinstance(value, list) else value
            match = re.search(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}", text)
            if match:
                return match.group(1)
    raise ValueError(f"cannot tell which resource {node!r} refers to")
