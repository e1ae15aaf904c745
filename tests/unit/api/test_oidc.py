"""/rest/v1/oidc: local logins as NVDB's Docker image gives them, and Cognito's USER_PASSWORD_AUTH on AWS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from vegskriv import aws
from vegskriv.api.app import handle
from vegskriv.auth import LOCAL_DEV_SECRET, InvalidToken, verify_token
from vegskriv.settings import get_settings


@pytest.fixture(autouse=True)
def local(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JWT_SECRET", LOCAL_DEV_SECRET)
    monkeypatch.setenv("JWT_ISSUER", "vegskriv-local")
    monkeypatch.setenv("JWT_AUDIENCE", "vegskriv")
    monkeypatch.delenv("JWT_JWKS_URL", raising=False)
    monkeypatch.delenv("OIDC_COGNITO_CLIENT_ID", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def post(path: str, body: str) -> dict[str, Any]:
    event = {"path": path, "httpMethod": "POST", "headers": {"Content-Type": "application/json"},
             "requestContext": {"stage": "v1"}, "body": body, "isBase64Encoded": False}
    response = handle(event, None)
    assert response["statusCode"] == 200
    return json.loads(response["body"])


def test_password_equal_to_user_name_logs_in_with_the_default_role():
    tokens = post("/rest/v1/oidc/authenticate", json.dumps({"username": "olanor", "password": "olanor"}))
    for name in ("idToken", "accessToken"):
        caller = verify_token(tokens[name])
        assert (caller.user, caller.roles) == ("olanor", frozenset({"0_bruker_fagdata"}))
    with pytest.raises(InvalidToken, match="refresh"):
        verify_token(tokens["refreshToken"])


def test_users_file_and_role_list_and_the_documented_single_quotes(monkeypatch):
    monkeypatch.setenv("OIDC_LOCAL_USERS", json.dumps({"forvalter": ["nva/9_system_admin"]}))
    monkeypatch.setenv("OIDC_LOCAL_ROLES", "0_bruker_fagdata, 5_fagdata_admin")
    get_settings.cache_clear()
    tokens = post("/nvdb/apiskriv/rest/v1/oidc/authenticate",
                  "{'username': 'forvalter', 'password': 'forvalter', 'realm': 'EMPLOYEE'}")
    assert verify_token(tokens["idToken"]).roles == frozenset({"9_system_admin"})
    tokens = post("/rest/v1/oidc/authenticate", "{'username': 'kari', 'password': 'kari'}")
    assert verify_token(tokens["idToken"]).roles == frozenset({"0_bruker_fagdata", "5_fagdata_admin"})


@pytest.mark.parametrize("body", ['{"username": "olanor", "password": "hemmelig"}', "ikke json",
                                  '{"username": "olanor", "password": "olanor", "realm": "MARS"}'])
def test_failed_login_is_an_empty_object(body):
    assert post("/rest/v1/oidc/authenticate", body) == {}


def test_no_local_logins_where_tokens_come_from_an_identity_provider(monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "")
    monkeypatch.setenv("JWT_JWKS_URL", "https://idp.example/jwks.json")
    get_settings.cache_clear()
    assert post("/rest/v1/oidc/authenticate", '{"username": "olanor", "password": "olanor"}') == {}


def test_cognito_user_password_auth_and_refresh(monkeypatch):
    with mock_aws():
        aws.reset()
        idp = boto3.client("cognito-idp", region_name="eu-north-1")
        pool = idp.create_user_pool(PoolName="vegskriv")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool, ClientName="nvdb", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                                    "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool, Username="olanor", TemporaryPassword="Midlertidig1!")
        idp.admin_set_user_password(UserPoolId=pool, Username="olanor", Password="Hemmelig1!", Permanent=True)
        monkeypatch.setenv("OIDC_COGNITO_CLIENT_ID", client_id)
        get_settings.cache_clear()
        tokens = post("/rest/v1/oidc/authenticate", '{"username": "olanor", "password": "Hemmelig1!"}')
        assert set(tokens) == {"idToken", "accessToken", "refreshToken"}
        renewed = post("/rest/v1/oidc/refresh", json.dumps({"refreshToken": tokens["refreshToken"]}))
        assert set(renewed) == {"idToken", "accessToken"}
        # Cognito's own rule, not the Docker image's: the user name is no password here.
        assert post("/rest/v1/oidc/authenticate", '{"username": "olanor", "password": "olanor"}') == {}
    aws.reset()


def test_client_config_names_the_issuer():
    event = {"path": "/rest/v1/oidc/client-config/employee", "httpMethod": "GET", "headers": {},
             "requestContext": {"stage": "v1"}, "body": None, "isBase64Encoded": False}
    config = json.loads(handle(event, None)["body"])
    assert config["issuer"] == "vegskriv-local" and config["realm"] == "employee"


@pytest.mark.parametrize("path", ["/rest/v1/oidc/authenticate", "/rest/v1/oidc/refresh"])
@pytest.mark.parametrize("body", ["[" * 32_000 + "]" * 32_000, '{"a":' * 10_000 + "1" + "}" * 10_000])
def test_a_deeply_nested_body_is_a_failed_login_not_500(path: str, body: str) -> None:
    """Read before any bound of api/body.py applies, and nested deeper than Python's json recurses."""
    assert len(body) <= 64_000  # under _read's own bound
    assert post(path, body) == {}
