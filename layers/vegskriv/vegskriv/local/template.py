"""What the local stack runs, read from the translated template and the resources moto created.

SAM's translator applies ``Globals`` and turns the ``Events`` of each function into resources
(:mod:`vegskriv.local.translate`); moto's CloudFormation resolves the intrinsics when it creates
them. So nothing here resolves a ``!Ref`` or merges Globals: a function's handler, timeout, memory
and environment are those moto's Lambda holds, its SQS event sources moto's event source mappings,
its schedules moto's Scheduler schedules. Only the REST API is read from the translated template,
the OpenAPI body SAM wrote (moto cannot create it, :mod:`vegskriv.local.apigw` serves it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCAL_REGION = "eu-north-1"
LOCAL_ACCOUNT = "123456789012"
LOCAL_STACK_NAME = "vegskriv"


def load_template_file(path: str | Path) -> dict[str, Any]:
    """``template.yaml`` with the short intrinsic tags (``!Ref`` …) in their long form, as SAM reads it."""
    from samtranslator.yaml_helper import yaml_parse

    doc = yaml_parse(Path(path).read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or "Resources" not in doc:
        raise ValueError(f"{path} is not a CloudFormation/SAM template (no Resources)")
    return doc


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
    event_name: str  # the event source mapping's logical id
    queue_logical_id: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass
class AuthorizerSpec:
    name: str
    function_logical_id: str
    payload_type: str
    header: str
    ttl_seconds: int


@dataclass
class ApiRouteSpec:
    function: FunctionSpec
    api_logical_id: str
    path: str
    method: str  # upper case, "ANY" for any
    authorizer: str | None  # name of the authorizer to run, None = open


class Template:
    """``template.yaml`` translated by SAM; after :meth:`created`, what moto made of it."""

    def __init__(self, path: str | Path, *, project_root: str | Path | None = None,
                 parameters: dict[str, str] | None = None, region: str = LOCAL_REGION,
                 account: str = LOCAL_ACCOUNT) -> None:
        from vegskriv.local import translate

        self.path = Path(path).resolve()
        self.root = Path(project_root).resolve() if project_root else self.path.parent
        self.doc = load_template_file(self.path)
        self.region = region
        self.account = account
        declared = self.doc.get("Parameters") or {}
        unknown = set(parameters or {}) - set(declared)
        if unknown:
            raise ValueError(f"unknown template parameter(s): {', '.join(sorted(unknown))}")
        self.parameters = {**{k: str(v["Default"]) for k, v in declared.items() if "Default" in (v or {})},
                           **(parameters or {})}
        self.translated = translate.translate(self.doc, self.root, self.parameters, region, account)
        self.physical_ids: dict[str, str] = {}
        self.functions: dict[str, FunctionSpec] = {}

    def logical_ids(self, *kinds: str) -> list[str]:
        """Resources of the translated template of the given CloudFormation types."""
        return [lid for lid, res in self.translated["Resources"].items() if res["Type"] in kinds]

    def queue_url(self, logical_id: str) -> str:
        return self.physical_ids[logical_id]

    # ---------------------------------------------------------------- after moto created the stack

    def created(self, resources: dict[str, dict[str, Any]], client: Any) -> None:
        """Read back the functions moto created (``resources``: its stack resource summaries by
        logical id; ``client``: makes boto3 clients)."""
        self.physical_ids = {lid: r["PhysicalResourceId"] for lid, r in resources.items()}
        lambda_ = client("lambda")
        for lid in self.logical_ids("AWS::Lambda::Function"):
            if lid not in self.physical_ids:
                continue
            config = lambda_.get_function_configuration(FunctionName=self.physical_ids[lid])
            code = self.translated["Resources"][lid]["Properties"]["Code"]
            self.functions[lid] = FunctionSpec(
                logical_id=lid, name=config["FunctionName"], arn=config["FunctionArn"],
                code_dir=(self.root / str(code["S3Key"])).resolve(), handler=config["Handler"],
                runtime=config["Runtime"], timeout=int(config["Timeout"]), memory_size=int(config["MemorySize"]),
                environment={k: str(v) for k, v in ((config.get("Environment") or {}).get("Variables")
                                                      or {}).items()})

    def sqs_event_sources(self, client: Any) -> list[SqsEventSpec]:
        by_arn = {spec.arn: spec for spec in self.functions.values()}
        lid_by_arn = {_queue_arn(url): lid for lid, url in self.physical_ids.items() if url.startswith("https://sqs.")}
        mapping_lid = {physical: lid for lid, physical in self.physical_ids.items()}
        sources = []
        for page in client("lambda").get_paginator("list_event_source_mappings").paginate():
            for mapping in page["EventSourceMappings"]:
                if mapping["FunctionArn"] not in by_arn or mapping["EventSourceArn"] not in lid_by_arn:
                    continue
                sources.append(SqsEventSpec(
                    function=by_arn[mapping["FunctionArn"]],
                    event_name=mapping_lid.get(mapping["UUID"], mapping["UUID"]),
                    queue_logical_id=lid_by_arn[mapping["EventSourceArn"]], queue_arn=mapping["EventSourceArn"],
                    batch_size=int(mapping.get("BatchSize") or 10),
                    report_batch_item_failures="ReportBatchItemFailures" in (
                        mapping.get("FunctionResponseTypes") or [])))
        return sources

    # ---------------------------------------------------------------- the REST API (SAM's OpenAPI body)

    def api_routes(self) -> list[ApiRouteSpec]:
        routes = []
        for api in self.logical_ids("AWS::ApiGateway::RestApi"):
            body = self.translated["Resources"][api]["Properties"].get("Body") or {}
            for path, item in (body.get("paths") or {}).items():
                for method, operation in item.items():
                    uri = (operation.get("x-amazon-apigateway-integration") or {}).get("uri")
                    function = self.functions.get(_function_of(uri)) if uri is not None else None
                    if function is None:
                        continue
                    security = [name for entry in operation.get("security") or [] for name in entry]
                    authorizer = next((name for name in security if name != "NONE"), None)
                    routes.append(ApiRouteSpec(
                        function=function, api_logical_id=api, path=path,
                        method="ANY" if method == "x-amazon-apigateway-any-method" else method.upper(),
                        authorizer=authorizer))
        return routes

    def api_properties(self, api_logical_id: str) -> dict[str, Any]:
        """The RestApi's properties as SAM translated them (``BinaryMediaTypes`` with ``~1`` for ``/``)."""
        return dict(self.translated["Resources"][api_logical_id]["Properties"])

    def authorizers(self, api_logical_id: str) -> dict[str, AuthorizerSpec]:
        body = self.translated["Resources"][api_logical_id]["Properties"].get("Body") or {}
        specs = {}
        for name, scheme in (body.get("securityDefinitions") or {}).items():
            authorizer = scheme.get("x-amazon-apigateway-authorizer") or {}
            if "authorizerUri" not in authorizer:
                continue  # Cognito/JWT authorizers have no function to run locally
            source = str(authorizer.get("identitySource") or f"method.request.header.{scheme.get('name')}")
            specs[name] = AuthorizerSpec(
                name=name, function_logical_id=_function_of(authorizer["authorizerUri"]),
                payload_type=str(authorizer.get("type", "token")).upper(),
                header=source.rpartition(".")[2] if authorizer.get("type", "token") == "token" else "Authorization",
                ttl_seconds=int(authorizer.get("authorizerResultTtlInSeconds", 300)))
        return specs

    def stage_name(self, api_logical_id: str) -> str:
        for lid in self.logical_ids("AWS::ApiGateway::Stage"):
            props = self.translated["Resources"][lid]["Properties"]
            if props.get("RestApiId") == {"Ref": api_logical_id}:
                name = props.get("StageName")
                # SAM leaves a parameter's Ref in place; moto never sees the Stage to resolve it
                return str(self.parameters[name["Ref"]] if isinstance(name, dict) else name)
        return "Prod"


_SUB_ARN = re.compile(r"\$\{([A-Za-z0-9]+)\.Arn\}")


def _function_of(uri: Any) -> str:
    """The function an API Gateway integration or authorizer URI (``Fn::Sub``) invokes."""
    text, variables = (uri["Fn::Sub"] if isinstance(uri["Fn::Sub"], list) else [uri["Fn::Sub"], {}])
    match = _SUB_ARN.search(text)
    if match:
        return match.group(1)
    for value in variables.values():
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    raise ValueError(f"cannot tell which function {uri!r} invokes")


def _queue_arn(url: str) -> str:
    # https://sqs.<region>.amazonaws.com/<account>/<name>
    host, account, name = url.removeprefix("https://").split("/")
    return f"arn:aws:sqs:{host.split('.')[1]}:{account}:{name}"
