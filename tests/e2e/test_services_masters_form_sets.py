"""Master rules 6 and 7 around form sets (a master's sub-editions), and form sets that answered 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.test_services import Owner, refused
from tests.support.client import Client
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, env={"POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


@pytest.fixture
def a(stack: LocalStack, admin: Client) -> Owner:
    return Owner(stack, admin, "anna")


@pytest.fixture
def b(stack: LocalStack, admin: Client) -> Owner:
    return Owner(stack, admin, "bjorn")


def _form_set_master(a: Owner) -> tuple[str, str]:
    """A master T1/1 whose form set has the master sub-edition S1/1."""
    sub = a.published("S1", kunUnderskjema=True, navn="Vedlegg til kum")
    a.ok("POST", f"{sub}/master")
    a.service("T1")
    main = a.edition("T1", "1", underskjema=[{"tjenestekode": "S1", "utgavekode": "1"}])
    a.ok("POST", f"{main}/migrer")
    a.ok("POST", f"{main}/master")
    return main, sub


def test_rule_7_deleting_a_form_set_master_frees_its_sub_editions(a: Owner) -> None:
    main, sub = _form_set_master(a)
    a.ok("DELETE", main, status=204)  # nobody derived from it: a master may be deleted
    # No master form set uses the sub-edition any more: it can be unmarked, then deleted.
    assert a.ok("DELETE", f"{sub}/master")["master"] is False
    a.ok("DELETE", sub, status=204)


def test_rule_6_a_sub_edition_the_published_master_uses_stays_a_master(a: Owner, b: Owner) -> None:
    main, sub = _form_set_master(a)
    # The master's draft drops the sub-edition; its published version (what others take) still has it.
    a.ok("PATCH", main, {"underskjema": []})
    r = a.call("DELETE", f"{sub}/master")
    if r.status_code == 200:  # allowed: then the master everyone can list must still be usable
        created = b.from_master({"eier": a.kode, "tjenestekode": "T1", "utgavekode": "1"})
        assert created.status_code == 201, created.text
    else:
        refused(r, 6)


@pytest.mark.parametrize("case", ["itself", "twice"])
def test_a_master_form_set_naming_an_edition_twice_or_itself_is_no_500(a: Owner, case: str) -> None:
    sub = a.published("S1", kunUnderskjema=True)
    a.ok("POST", f"{sub}/master")
    a.service("T1")
    if case == "itself":
        main = a.edition("T1", "1")
        a.ok("POST", f"{main}/migrer")
        a.ok("POST", f"{main}/master")
        r = a.call("PATCH", main, {"underskjema": [{"tjenestekode": "T1", "utgavekode": "1"}]})
    else:
        twice = [{"tjenestekode": "S1", "utgavekode": "1"}] * 2
        main = a.edition("T1", "1", underskjema=twice)
        a.ok("POST", f"{main}/migrer")
        r = a.call("POST", f"{main}/master")
    assert r.status_code < 500, r.text
