"""Cognito's tokens as the authorizer verifies them (RS256 via JWKS): one user is one identity."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import boto3
import jwt
import moto.cognitoidp
import pytest
from moto import mock_aws

from vegskriv import auth, aws
from vegskriv.api.app import handle
from vegskriv.auth import verify_token
from vegskriv.settings import get_settings

REGION = "eu-north-1"


def post(path: str, body: str) -> dict:
    event = {"path": path, "httpMethod": "POST", "headers": {"Content-Type": "application/json"},
             "requestContext": {"stage": "v1"}, "body": body, "isBase64Encoded": False}
    response = handle(event, None)
    assert response["statusCode"] == 200
    return json.loads(response["body"])


@pytest.fixture
def cognito(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """A pool and app client as README's 'On AWS' configures them; the pool's JWKS (moto's key) is
    what PyJWKClient would fetch from JWT_JWKS_URL."""
    jwks = Path(os.path.dirname(moto.cognitoidp.__file__)) / "resources" / "jwks-public.json.gz"
    keys = jwt.PyJWKSet.from_json(gzip.decompress(jwks.read_bytes()).decode())
    fetched = SimpleNamespace(get_signing_key_from_jwt=lambda token: keys[jwt.get_unverified_header(token)["kid"]])
    monkeypatch.setattr(auth, "_jwks_client", lambda url: fetched)
    with mock_aws():
        aws.reset()
        idp = boto3.client("cognito-idp", region_name=REGION)
        pool = idp.create_user_pool(PoolName="vegskriv")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool, ClientName="nvdb", ReadAttributes=["preferred_username", "email"],
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
        for user in ("olanor", "kari"):
            idp.admin_create_user(UserPoolId=pool, Username=user, TemporaryPassword="Midlertidig1!")
            idp.admin_set_user_password(UserPoolId=pool, Username=user, Password="Hemmelig1!", Permanent=True)
        monkeypatch.setenv("JWT_SECRET", "")
        monkeypatch.setenv("JWT_JWKS_URL", f"https://cognito-idp.{REGION}.amazonaws.com/{pool}/.well-known/jwks.json")
        monkeypatch.setenv("JWT_ISSUER", f"https://cognito-idp.{REGION}.amazonaws.com/{pool}")
        monkeypatch.setenv("JWT_AUDIENCE", "")  # README: Cognito's access tokens have no aud
        monkeypatch.setenv("JWT_ROLES_CLAIM", "cognito:groups")
        monkeypatch.setenv("OIDC_COGNITO_CLIENT_ID", client_id)
        get_settings.cache_clear()
        yield idp, pool
    get_settings.cache_clear()
    aws.reset()


def login(user: str) -> dict:
    return post("/rest/v1/oidc/authenticate", json.dumps({"username": user, "password": "Hemmelig1!"}))


def test_id_token_and_access_token_name_the_same_user(cognito) -> None:
    """Both are documented Bearer tokens (the CLI sends the idToken): a changeset, a lock, a consumer
    or a rights record must belong to the same user whichever of the two was sent."""
    tokens = login("olanor")
    assert verify_token(tokens["accessToken"]).user == "olanor"
    assert verify_token(tokens["idToken"]).user == "olanor"


def test_a_user_cannot_become_another_by_editing_his_own_attributes(cognito) -> None:
    """preferred_username is a profile attribute Cognito lets the user set himself
    (UpdateUserAttributes with his own access token); it must not make him someone else."""
    idp, _ = cognito
    tokens = login("olanor")
    idp.update_user_attributes(AccessToken=tokens["accessToken"],
                               UserAttributes=[{"Name": "preferred_username", "Value": "kari"}])
    again = login("olanor")
    assert verify_token(again["idToken"]).user != "kari"
