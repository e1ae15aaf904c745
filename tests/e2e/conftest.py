"""Clients shared by the end-to-end modules. Each module starts its own ``stack`` (moto state is
per process and each module wants its own settings); these fixtures use whichever it defines."""

import pytest

from tests.support.client import Client


@pytest.fixture(scope="module")
def olanor(stack) -> Client:
    return Client(stack.url, "olanor")


@pytest.fixture(scope="module")
def admin(stack) -> Client:
    return Client(stack.url, "systemadmin", ("9_system_admin",))
