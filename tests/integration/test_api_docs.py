"""The docs over the local stack's HTTP API, as a browser would read them: no token, nothing fetched
from the internet."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from openapi_spec_validator import validate

from vegskriv.local.stack import LocalStack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, seed=False, run_pollers=False, env={"POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


def test_swagger_ui_renders_offline_without_a_token(stack: LocalStack) -> None:
    r = requests.get(stack.url + "/swagger", timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    page = r.text
    # Swagger UI's script and style are in the page itself: no <script src>, no stylesheet link.
    assert "SwaggerUIBundle" in page and "<style>" in page and len(page) > 1_000_000
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page)
    assert '"/rest/v3/endringssett"' in page  # the document is embedded too
    spec = requests.get(stack.url + "/swagger", params={"format": "json"}, timeout=30)
    assert spec.status_code == 200 and "/rest/v3/endringssett" in spec.json()["paths"]


def test_openapi_json_is_public_and_valid_while_the_api_needs_a_token(stack: LocalStack) -> None:
    r = requests.get(stack.url + "/openapi.json", timeout=30)
    assert r.status_code == 200
    validate(r.json())
    assert requests.get(stack.url + "/rest/v3/datakatalog/versjon", timeout=30).status_code == 401
