"""The routers the api includes when first asked for (vegskriv.api.app.LATER): a request to any of
their routes must include them before routing, so every route lies under one of its prefixes."""

import importlib
import re

import pytest

from vegskriv.api.app import LATER


@pytest.mark.parametrize("module", sorted(LATER))
def test_every_route_of_a_later_router_is_under_its_prefixes(module: str) -> None:
    router = importlib.import_module(module).router
    rules = {re.sub(r"<[^>]+>", "x", key[0]) for key in router._routes}
    assert rules
    outside = sorted(rule for rule in rules
                     if not any(rule == p or rule.startswith(p + "/") for p in LATER[module]))
    assert outside == []
