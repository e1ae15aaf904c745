"""Tokens and roles: what the authorizer accepts and how roles reach the API unchanged."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import jwt
import pytest

from tests.conftest import ROOT
from vegskriv.auth import LOCAL_DEV_SECRET, InvalidToken, issue_dev_token, roles_from_context, verify_token
from vegskriv.settings import get_settings

_spec = importlib.util.spec_from_file_location("authorizer_app", ROOT / "functions" / "authorizer" / "app.py")
assert _spec is not None and _spec.loader is not None
authorizer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(authorizer)

CONTEXT = SimpleNamespace(function_name="authorizer", memory_limit_in_mb=128, aws_request_id="r1",
                          invoked_function_arn="arn:aws:lambda:eu-north-1:123456789012:function:authorizer")
METHOD_ARN = "arn:aws:execute-api:eu-north-1:123456789012:abcdef/v1/GET/rest/v3/endringssett"


@pytest.fixture(autouse=True)
def local_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JWT_SECRET", LOCAL_DEV_SECRET)
    monkeypatch.delenv("JWT_JWKS_URL", raising=False)
    monkeypatch.delenv("JWT_MAX_LIFETIME_SECONDS", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def token(**claims: Any) -> str:
    now = int(time.time())
    base = {"sub": "olanor", "iss": "vegskriv-local", "aud": "vegskriv", "iat": now, "exp": now + 3600,
            "roles": ["0_bruker_fagdata"]}
    return jwt.encode({k: v for k, v in {**base, **claims}.items() if v is not None}, LOCAL_DEV_SECRET,
                      algorithm="HS256")


def authorize(bearer: str) -> dict[str, Any]:
    event = {"type": "TOKEN", "authorizationToken": f"Bearer {bearer}", "methodArn": METHOD_ARN}
    return authorizer.lambda_handler(event, CONTEXT)


def test_dev_token_is_accepted_with_its_roles() -> None:
    policy = authorize(issue_dev_token("olanor", ["0_bruker_fagdata", "5_fagdata_admin"]))  # 12 h
    assert policy["principalId"] == "olanor"
    assert roles_from_context(policy["context"]["roles"]) == {"0_bruker_fagdata", "5_fagdata_admin"}


@pytest.mark.parametrize("roles", [["x,9_system_admin"], "x,9_system_admin"])
def test_a_comma_in_a_group_name_does_not_make_an_admin(roles: Any) -> None:
    policy = authorize(token(roles=roles))
    assert roles_from_context(policy["context"]["roles"]) == {"x,9_system_admin"}
    assert not verify_token(token(roles=roles)).is_system_admin


@pytest.mark.parametrize("roles", [42, True, {"9_system_admin": True}, [1], [["9_system_admin"]], 1.5])
def test_roles_that_are_not_strings_are_refused(roles: Any) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token(roles=roles))


def test_missing_roles_claim_means_no_roles() -> None:
    assert verify_token(token(roles=None)).roles == frozenset()


def test_a_token_without_exp_is_refused() -> None:
    with pytest.raises(InvalidToken, match="exp"):
        verify_token(token(exp=None))
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token(exp=None))


def test_a_token_living_longer_than_the_maximum_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    now = int(time.time())
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token(iat=now, exp=now + 366 * 24 * 3600))
    with pytest.raises(InvalidToken, match="JWT_MAX_LIFETIME_SECONDS"):  # no iat: counted from now
        verify_token(token(iat=None, exp=now + 48 * 3600))
    monkeypatch.setenv("JWT_MAX_LIFETIME_SECONDS", "600")
    get_settings.cache_clear()
    with pytest.raises(InvalidToken):
        verify_token(token(iat=now, exp=now + 3600))
    assert verify_token(token(iat=now, exp=now + 600)).user == "olanor"


def test_a_user_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidToken):
        verify_token(token(sub={"name": "olanor"}))


@pytest.mark.parametrize("value", ["0_bruker_fagdata,9_system_admin", "{}", '["a", 1]', "not json"])
def test_context_roles_not_written_by_the_authorizer_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        roles_from_context(value)
