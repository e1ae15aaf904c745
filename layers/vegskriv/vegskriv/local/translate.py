"""``template.yaml`` → the CloudFormation template moto creates, through SAM's own translator.

Before translating, local paths become what ``sam package`` would have made of them:
``CodeUri``/``ContentUri`` an ``s3://`` URI (the stack uploads a stub zip there; the handlers run
in-process from the directory the key names) and ``DefinitionUri`` the inlined ``Definition``.

After translating, three things moto cannot take as they are:

* the REST API (``AWS::ApiGateway::*`` from SAM's OpenAPI body): moto's deployment finds no
  methods and fails. Dropped, with every resource and output that refers to it (the Lambda
  permissions API Gateway would use); :mod:`vegskriv.local.apigw` serves the routes instead.
* resource types moto's CloudFormation has no model for (its own registry decides, nothing is
  listed here); dropped the same way and logged. With moto 5.2.5 and :mod:`vegskriv.local.moto_models`
  (which adds alarms and Scheduler schedules) there are none in ``template.yaml``.
* ``DefinitionSubstitutions`` of a state machine, which moto ignores: folded into its
  ``DefinitionString`` (an ``Fn::Join`` of the text around each ``${key}`` and the key's value).

Every other resource keeps a fixed name, ``vegskriv-<LogicalId>`` (unless the template names it),
so that ``--data`` finds its tables again after a restart and the AWS CLI names stay stable.
Event source mappings are created disabled: moto's own delivery invokes one message at a time
and ignores ``batchItemFailures``, so :mod:`vegskriv.local.sqs_poller` delivers instead.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("vegskriv_local")

CODE_BUCKET = "vegskriv-local-code"
DROPPED_TYPE_PREFIXES = ("AWS::ApiGateway::",)
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)[.}]")


def _s3_uri(local: Any) -> Any:
    return f"s3://{CODE_BUCKET}/{local}" if isinstance(local, str) and not local.startswith("s3://") else local


def prepare(doc: dict[str, Any], root: Path) -> dict[str, Any]:
    """The SAM template with code as S3 URIs and state machine definitions inlined."""
    doc = copy.deepcopy(doc)
    function_globals = (doc.get("Globals") or {}).get("Function") or {}
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = _s3_uri(function_globals["CodeUri"])
    for resource in (doc.get("Resources") or {}).values():
        props = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function" and "CodeUri" in props:
            props["CodeUri"] = _s3_uri(props["CodeUri"])
        elif kind == "AWS::Serverless::LayerVersion" and "ContentUri" in props:
            props["ContentUri"] = _s3_uri(props["ContentUri"])
        elif kind == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            props["Definition"] = json.loads(_literal_substitutions(
                (root / props.pop("DefinitionUri")).read_text(encoding="utf-8"), props))
    return doc


def _literal_substitutions(text: str, props: dict[str, Any]) -> str:
    """Put the literal DefinitionSubstitutions (e.g. a shared Retry list) into the ASL text.

    Such values may stand where JSON expects a list, so the file parses only after them; values that
    are intrinsic functions (function ARNs) sit inside JSON strings and are folded in later.
    """
    substitutions = props.get("DefinitionSubstitutions") or {}
    for key, value in list(substitutions.items()):
        if isinstance(value, str) and f"${{{key}}}" in text:
            text = text.replace(f"${{{key}}}", value)
            del substitutions[key]
    return text


def translate(doc: dict[str, Any], root: Path, parameters: dict[str, str], region: str,
              account: str) -> dict[str, Any]:
    """The CloudFormation template SAM's translator makes of ``doc`` (Globals applied, events as resources)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    values = {**parameters, "AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws"}
    # No managed policy names to look up: the template uses SAM policy templates and statements.
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=region))
    cfn: dict[str, Any] = translator.translate(prepare(doc, root), parameter_values=values,
                                               get_managed_policy_map=dict)
    return cfn


def creatable(translated: dict[str, Any]) -> dict[str, Any]:
    """The translated template made something moto's CloudFormation creates."""
    from vegskriv.local import moto_models  # noqa: F401  (registers the types moto lacks)

    cfn = copy.deepcopy(translated)
    _drop_what_moto_cannot_create(cfn)
    resources = cfn["Resources"]
    for logical_id, resource in resources.items():
        props = resource.setdefault("Properties", {})
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            _fold_substitutions(props)
        elif resource["Type"] == "AWS::Lambda::EventSourceMapping":
            props["Enabled"] = False
        name_property = _name_property(resource["Type"])
        if name_property and name_property not in props:
            props[name_property] = f"vegskriv-{logical_id}"
    return cfn


def code_keys(cfn: dict[str, Any]) -> set[str]:
    """The S3 keys the translated template's functions and layers take their code from."""
    keys = set()
    for resource in cfn["Resources"].values():
        props = resource.get("Properties") or {}
        for location in (props.get("Code"), props.get("Content")):
            if isinstance(location, dict) and location.get("S3Bucket") == CODE_BUCKET:
                keys.add(str(location["S3Key"]))
    return keys


def _name_property(kind: str) -> str | None:
    from moto.cloudformation.parsing import resource_name_property_from_type

    return resource_name_property_from_type(kind)


def _fold_substitutions(props: dict[str, Any]) -> None:
    substitutions = props.pop("DefinitionSubstitutions", None) or {}
    definition = props.get("DefinitionString")
    if isinstance(definition, dict) and "Fn::Join" in definition:
        separator, parts = definition["Fn::Join"]
        if all(isinstance(p, str) for p in parts):
            definition = separator.join(parts)
    if not substitutions or not isinstance(definition, str):
        props["DefinitionString"] = definition
        return
    # A Join, not moto's Fn::Sub: only the named ${keys} are replaced (moto's Sub also turns the
    # ASL's "$$.Task.Token" into "$.Task.Token").
    pattern = re.compile("|".join(re.escape("${" + key + "}") for key in substitutions))
    pieces: list[Any] = []
    for text, key in zip(pattern.split(definition), [*pattern.findall(definition), None], strict=True):
        pieces.append(text)
        if key is not None:
            pieces.append(substitutions[key[2:-1]])
    props["DefinitionString"] = {"Fn::Join": ["", pieces]}


def _drop_what_moto_cannot_create(cfn: dict[str, Any]) -> None:
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    def unsupported(kind: str) -> bool:
        return kind not in get_model_map() and kind not in NULL_MODELS and not kind.startswith("Custom::")

    resources = cfn["Resources"]
    dropped = {lid for lid, res in resources.items()
               if res["Type"].startswith(DROPPED_TYPE_PREFIXES) or unsupported(res["Type"])}
    unknown = sorted(f"{lid} ({resources[lid]['Type']})" for lid in dropped
                     if not resources[lid]["Type"].startswith(DROPPED_TYPE_PREFIXES))
    if unknown:
        log.info("moto cannot create %s; not created locally", ", ".join(unknown))
    while True:  # and whatever refers to a dropped resource, until nothing more does
        more = {lid for lid, res in resources.items() if lid not in dropped and _refers_to(res, dropped)}
        if not more:
            break
        dropped |= more
    for lid in dropped:
        del resources[lid]
    outputs = cfn.get("Outputs") or {}
    for name in [n for n, out in outputs.items() if _refers_to(out, dropped)]:
        del outputs[name]


def _refers_to(node: Any, logical_ids: set[str]) -> bool:
    if isinstance(node, list):
        return any(_refers_to(v, logical_ids) for v in node)
    if not isinstance(node, dict):
        return False
    for key, value in node.items():
        if key == "Ref" and value in logical_ids:
            return True
        if key == "Fn::GetAtt":
            target = value[0] if isinstance(value, list) else str(value).split(".")[0]
            if target in logical_ids:
                return True
        if key == "Fn::Sub":
            text = value[0] if isinstance(value, list) else value
            if isinstance(text, str) and set(_SUB_NAME.findall(text)) & logical_ids:
                return True
        if key == "DependsOn":
            names = [value] if isinstance(value, str) else value
            if set(names) & logical_ids:
                return True
        if _refers_to(value, logical_ids):
            return True
    return False
