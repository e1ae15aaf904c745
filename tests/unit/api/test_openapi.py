"""/openapi.json describes the API from its models: it validates, every operation lists its request
body, its real status codes and the bearer token it needs, and what it documents is what runs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from vegskriv.api.app import handle

WITH_BODY = [("post", "/rest/v3/endringssett"), ("post", "/rest/v3/endringssett/validator"),
             ("post", "/rest/v1/lås"), ("put", "/rest/v3/rettigheter/{brukernavn}"),
             ("put", "/rest/v3/datakatalog"), ("put", "/rest/v3/vegnett/veglenkesekvenser"),
             ("put", "/rest/v3/vegobjekter")]
PUBLIC = {"/health", "/openapi.json", "/", "/rest/v1/oidc/authenticate", "/rest/v1/oidc/refresh",
          "/rest/v1/oidc/client-config/{realm}"}  # the login endpoints issue the token


def call(method: str, path: str, *, body: Any = None, authorizer: dict[str, str] | None = None,
         headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = {"path": path, "httpMethod": method, "headers": {"Host": "127.0.0.1", **(headers or {})},
             "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
             "requestContext": {"stage": "v1", "authorizer": authorizer},
             "body": None if body is None else json.dumps(body), "isBase64Encoded": False}
    return handle(event, None)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    response = call("GET", "/openapi.json")
    assert response["statusCode"] == 200
    return json.loads(response["body"])


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert len(operations(document)) >= 30


@pytest.mark.parametrize(("method", "path"), WITH_BODY)
def test_every_json_endpoint_documents_its_request_body(document: dict[str, Any], method: str, path: str) -> None:
    body = document["paths"][path][method]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert body["required"] and schema  # a model or a $ref to one, not an empty {}


def test_operations_list_their_real_status_codes(document: dict[str, Any]) -> None:
    codes = {(m, p): set(op["responses"]) for m, p, op in operations(document)}
    assert codes[("post", "/rest/v3/endringssett")] == {"201", "400", "401", "413", "415"}
    assert codes[("post", "/rest/v3/endringssett/{endringssett_id}/start")] == {"202", "401", "404", "409"}
    assert codes[("delete", "/rest/v3/rettigheter/{brukernavn}")] >= {"204", "403", "404"}
    assert codes[("post", "/rest/v1/lås")] >= {"201", "403", "409"}
    assert not any("422" in c for c in codes.values())  # bad requests answer 400, never 422
    for (method, path), answered in codes.items():
        if path not in PUBLIC:
            assert "401" in answered, (method, path)
    fault = document["paths"]["/rest/v3/endringssett"]["post"]["responses"]["400"]["content"]["application/json"]
    assert fault["schema"] == {"$ref": "#/components/schemas/Feil"}
    assert document["components"]["schemas"]["Feil"]["required"] == ["message"]


def test_every_answer_the_api_can_give_is_documented(document: dict[str, Any]) -> None:
    """What make fuzz --checks all found undocumented: 400 for a path value its pattern refuses, 404
    for a path no route matches, faults in XML; and a form body answers 415 wherever a body is read."""
    codes = {(m, p): set(op["responses"]) for m, p, op in operations(document)}
    assert codes[("delete", "/rest/v1/konsumenter/{konsument_id}")] >= {"400", "404"}
    assert "400" not in codes[("post", "/rest/v3/endringssett/{endringssett_id}/start")]  # any text is an id
    name = document["paths"]["/rest/v3/rettigheter/{brukernavn}"]["delete"]["parameters"][0]["schema"]
    assert re.fullmatch(name["pattern"], "ola.nordmann@vegvesen.no") and not re.fullmatch(name["pattern"], "_")
    for method, path, op in operations(document):
        assert any(int(code) < 400 for code in op["responses"]), (method, path)  # its success, too
        if "requestBody" in op:
            assert codes[(method, path)] >= {"400", "413", "415"}, (method, path)
        if "{" in path:
            assert "404" in codes[(method, path)], (method, path)
        for code, answer in op["responses"].items():
            if int(code) >= 400:
                bodies = {media: body["schema"] for media, body in answer["content"].items()}
                feil = {"$ref": "#/components/schemas/Feil"}
                assert bodies == {"application/json": feil, "application/xml": feil}, (method, path, code)
    assert document["components"]["schemas"]["Feil"]["xml"] == {
        "name": "fault", "namespace": "http://nvdb.vegvesen.no/apiskriv/fault/v1"}


def test_bearer_is_required_everywhere_but_health_and_the_docs(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "JWT fra utstederen (lokalt: `vegskriv token`)"}
    for method, path, op in operations(document):
        if path in PUBLIC:
            assert "security" not in op, path
        else:
            assert op["security"] and all("bearer" in r for r in op["security"]), (method, path)
    assert document["paths"]["/rest/v3/datakatalog"]["put"]["security"] == [{"bearer": ["9_system_admin"]}]
    assert "/swagger" not in document["paths"]


def test_query_and_header_parameters_keep_their_wire_names(document: dict[str, Any]) -> None:
    names = {(m, p): [x["name"].lower() for x in op.get("parameters", [])] for m, p, op in operations(document)}
    assert names[("get", "/rest/v3/endringssett/{endringssett_id}/status")] == [
        "endringssett_id", "inkluderresultat", "inkluderverslar".replace("verslar", "varsler")]
    assert {"sorterstigende", "brukernavnellerklient", "årsak"} <= set(names[("get", "/rest/v3/endringssett")])
    assert {"x-nvdb-dryrun", "x-nvdb-delay"} <= set(names[("post", "/rest/v3/endringssett")])


ADMIN = {"user": "admin", "roles": '["9_system_admin"]'}
PLAIN = {"user": "olanor", "roles": '["0_bruker_fagdata"]'}


def message(response: dict[str, Any]) -> tuple[int, str]:
    return response["statusCode"], json.loads(response["body"])["message"]


def test_the_documented_roles_are_checked_before_the_body() -> None:
    # A bad body from a caller without the role: 403 (as documented), not a schema error.
    status, text = message(call("PUT", "/rest/v3/vegnett/veglenkesekvenser", body={}, authorizer=PLAIN))
    assert (status, text) == (403, "Krever rollen 9_system_admin")
    status, text = message(call("POST", "/rest/v1/lås", body={"x": 1}, authorizer=PLAIN))
    assert status == 403 and "9_system_admin eller 5_fagdata_admin" in text
    # A route that needs a token, reached without the authorizer's context, serves nobody.
    assert message(call("GET", "/rest/v3/datakatalog/versjon")) == (403, "Mangler autentisert bruker")


def test_a_powertools_without_the_validation_attribute_fails_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    # The role check wraps Powertools' private request validation; should an upgrade rename it, the
    # resolver must refuse to start rather than validate bodies of callers who lack the role.
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    from vegskriv.api.app import Resolver

    original = APIGatewayRestResolver.__init__

    def renamed(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._validation_before_middlewares = self.__dict__.pop("_request_validation_middleware")

    monkeypatch.setattr(APIGatewayRestResolver, "__init__", renamed)
    with pytest.raises(RuntimeError, match="_request_validation_middleware"):
        Resolver()


def test_one_formatter_names_the_path_of_every_validation_error() -> None:
    status, text = message(call("PUT", "/rest/v3/vegnett/veglenkesekvenser", authorizer=ADMIN,
                                body={"veglenkesekvenser": [{"veglenkesekvensId": "x"}]}))
    assert status == 400 and text.startswith("veglenkesekvenser[0].veglenkesekvensId: ")
    status, text = message(call("POST", "/rest/v3/endringssett", authorizer=PLAIN,
                                body={"datakatalogversjon": "2.38", "registrer": {"vegobjekter": [{"typeId": "x"}]}}))
    assert status == 400 and "registrer.vegobjekter[0].typeId: " in text
    status, text = message(call("POST", "/rest/v3/endringssett", authorizer=PLAIN, body={},
                                headers={"X-NVDB-Delay": "3601"}))
    assert status == 400 and "X-NVDB-Delay: " in text.replace("x-nvdb-delay", "X-NVDB-Delay")


def test_content_types_and_hostile_json() -> None:
    assert message(call("PUT", "/rest/v3/rettigheter/kari", authorizer=ADMIN, body={"tilganger": []},
                        headers={"Content-Type": "text/plain"}))[0] == 415
    ok = call("PUT", "/rest/v3/rettigheter/kari", authorizer=ADMIN, body=[],
              headers={"Content-Type": "application/vnd.vegvesen.nvdb-v3+json; charset=utf-8"})
    assert ok["statusCode"] == 400  # read as JSON (a list is not the model), not refused as a media type
    event_body = "[" * 100 + "]" * 100
    response = handle({"path": "/rest/v1/lås", "httpMethod": "POST", "headers": {"Content-Type": "application/json"},
                       "requestContext": {"authorizer": ADMIN}, "body": event_body, "isBase64Encoded": False}, None)
    assert message(response) == (400, "Ugyldig JSON: nøstet 100 nivåer dypt; høyst 64 er tillatt")


def test_a_large_changeset_is_not_formatted_into_a_debug_message(monkeypatch: pytest.MonkeyPatch) -> None:
    # Powertools builds f"Calling API Route Handler: {route_args}" even with debug off; the body's repr
    # must not be the whole document (it cost seconds for 10,000 objects).
    from tests.support.client import changeset, kum
    from vegskriv.api import changesets as router_module

    seen: list[int] = []
    monkeypatch.setattr(router_module.use_cases, "register", lambda doc, raw, who, **kw: {"id": "x"})
    monkeypatch.setattr(router_module, "changeset_links",
                        lambda router, cid: seen.append(len(repr(router.context["_route_args"]))) or [{"src": cid}])
    doc = changeset(registrer=[kum(f"k{i}") for i in range(50)])
    assert call("POST", "/rest/v3/endringssett", body=doc, authorizer=PLAIN)["statusCode"] == 201
    assert seen and seen[0] < 300


def test_request_bodies_are_documented_as_json_and_xml(document: dict[str, Any]) -> None:
    content = document["paths"]["/rest/v3/endringssett"]["post"]["requestBody"]["content"]
    assert content["application/xml"] == content["application/json"]


def test_every_integer_parameter_is_bounded(document: dict[str, Any]) -> None:
    """Ids and indexes in paths and queries reach DynamoDB, which keeps 38 digits: each is bounded to
    int64, as JSON numbers in bodies are, so a longer one is a 400 that names it, never a 500."""
    unbounded = [(method, path, p["name"]) for method, path, op in operations(document)
                 for p in op.get("parameters", [])
                 for schema in p.get("schema", {}).get("anyOf", [p.get("schema", {})])
                 if schema.get("type") == "integer" and "maximum" not in schema]
    assert unbounded == []
