"""The panels' pages and the local dev login, through the API handler (no AWS needed)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vegskriv.api.app import handle
from vegskriv.auth import LOCAL_DEV_SECRET, verify_token
from vegskriv.settings import get_settings


def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
    event = {"httpMethod": method, "path": path, "resource": path, "headers": {"Content-Type": "application/json"},
             "queryStringParameters": None, "multiValueQueryStringParameters": None,
             "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
             "requestContext": {"stage": "Prod", "requestId": "r", "httpMethod": method, "path": path}}
    return handle(event, None)


@pytest.fixture()
def secret(monkeypatch):
    def use(value: str) -> None:
        monkeypatch.setenv("JWT_SECRET", value)
        monkeypatch.delenv("JWT_JWKS_URL", raising=False)
        get_settings.cache_clear()
    yield use
    get_settings.cache_clear()


@pytest.mark.parametrize(("path", "kind", "text"), [
    ("/kontrollpanel", "text/html", "/ui/kontrollpanel.js"), ("/generator", "text/html", "/ui/generator.js"),
    ("/ui/kontrollpanel.js", "text/javascript", "#/jobs/view/"), ("/ui/style.css", "text/css", "--accent")])
def test_pages_and_assets_are_served_from_the_package(path: str, kind: str, text: str) -> None:
    r = call("GET", path)
    assert r["statusCode"] == 200
    headers = {**(r.get("headers") or {}), **{k: v[-1] for k, v in (r.get("multiValueHeaders") or {}).items()}}
    assert headers["Content-Type"].startswith(kind)
    assert text in r["body"]


@pytest.mark.parametrize("name", ["..%2Fapi%2Fapp.py", "../auth.py", "nope.js", "insight.py", "__init__.py"])
def test_only_shipped_assets_are_served(name: str) -> None:
    r = call("GET", f"/ui/{name}")
    assert r["statusCode"] == 404
    assert json.loads(r["body"])["message"]


def test_dev_login_exists_only_with_the_development_secret(secret) -> None:
    secret("a-real-secret")
    assert call("POST", "/ui/dev-token", {"brukernavn": "olanor"})["statusCode"] == 404
    secret(LOCAL_DEV_SECRET)
    r = call("POST", "/ui/dev-token", {"brukernavn": "olanor", "roller": ["5_fagdata_admin"]})
    assert r["statusCode"] == 200, r["body"]
    who = verify_token(json.loads(r["body"])["token"])
    assert who.user == "olanor" and who.roles == {"5_fagdata_admin"}


def test_dev_login_names_a_bad_username(secret) -> None:
    secret(LOCAL_DEV_SECRET)
    r = call("POST", "/ui/dev-token", {"brukernavn": "ola nor"})
    assert r["statusCode"] == 400
    assert "brukernavn" in json.loads(r["body"])["message"]
