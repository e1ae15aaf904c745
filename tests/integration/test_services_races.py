"""Two administrators at once on an owner and its editions, as use cases against moto's ServicesTable;
the second request runs inside the first, between its read and its write."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.tables import moto_tables
from vegskriv.auth import ROLE_SYSTEM_ADMIN, Caller
from vegskriv.errors import BadRequest, Conflict
from vegskriv.services import use_cases
from vegskriv.services.models import (
    EndreTjenesteeier,
    EndreUtgave,
    Masterreferanse,
    NyTjeneste,
    NyTjenesteeier,
    NyUtgave,
    NyUtgaveFraMaster,
    Skjema,
    Utgavereferanse,
    Vedleggstype,
)
from vegskriv.store import services as store

SYSTEM = Caller("systemadmin", frozenset({ROLE_SYSTEM_ADMIN}))
ANNA, KARI = Caller("anna", frozenset()), Caller("kari", frozenset())
FORM = Skjema(vegobjekttyper=[83], operasjoner=["registrer"], datakatalogversjon="2.38")


@pytest.fixture(autouse=True)
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with moto_tables(monkeypatch, SERVICES_TABLE=("ServicesTable", "s")):
        use_cases.create_owner(SYSTEM, NyTjenesteeier(kode="A", navn="Eier A", administratorer=["anna", "kari"]))
        use_cases.create_service(ANNA, "A", NyTjeneste(tjenestekode="T1", navn="T1", tjenestetype="INNSENDING"))
        yield


def meanwhile(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, other: Callable[[], Any]) -> None:
    """Run ``other`` once, just before the first call of ``target.name``."""
    original = getattr(target, name)
    pending = [other]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if pending:
            pending.pop()()
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapped)


def test_an_administrator_removed_while_the_owner_is_renamed_stays_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    meanwhile(monkeypatch, store, "put_owner", lambda: use_cases.change_owner(
        SYSTEM, "A", EndreTjenesteeier(administratorer=["anna"])))  # kari is removed
    try:
        use_cases.change_owner(SYSTEM, "A", EndreTjenesteeier(navn="Fylke A"))
    except Conflict:
        return  # refused: fetch the owner and try again
    owner = store.get_owner("A")
    assert owner is not None and owner.administratorer == ["anna"], owner


def test_an_attachment_type_name_stays_unique_when_two_editions_are_created_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def kari() -> None:
        use_cases.create_edition(KARI, "A", "T1", NyUtgave(utgavekode="2", navn="K", skjema=FORM,
                                                           vedleggstyper=[Vedleggstype(navn="FOTO", maksAntall=9)]))

    meanwhile(monkeypatch, store, "create_edition", kari)
    with pytest.raises(Conflict, match=r"^Regel 8 \("):
        use_cases.create_edition(ANNA, "A", "T1", NyUtgave(utgavekode="1", navn="A", skjema=FORM,
                                                           vedleggstyper=[Vedleggstype(navn="Foto", maksAntall=2)]))


def test_a_master_naming_itself_in_its_form_set_is_a_client_error_not_a_store_error() -> None:
    use_cases.create_edition(ANNA, "A", "T1", NyUtgave(utgavekode="1", navn="A", skjema=FORM))
    use_cases.migrate(ANNA, "A", "T1", "1")
    use_cases.mark_master(ANNA, "A", "T1", "1")
    try:
        use_cases.change_edition(ANNA, "A", "T1", "1", EndreUtgave(
            underskjema=[Utgavereferanse(tjenestekode="T1", utgavekode="1")]))
    except ClientError as exc:
        pytest.fail(f"500: {exc}")
    except (BadRequest, Conflict):
        pass  # 400 or 409: the client is told


def test_rule_5_two_editions_from_one_master_service_at_once_make_one_service(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cases.create_owner(SYSTEM, NyTjenesteeier(kode="B", navn="Eier B", administratorer=["bjorn", "berit"]))
    for uk in ("1", "2"):
        use_cases.create_edition(ANNA, "A", "T1", NyUtgave(utgavekode=uk, navn=uk, skjema=FORM))
        use_cases.migrate(ANNA, "A", "T1", uk)
        use_cases.mark_master(ANNA, "A", "T1", uk)

    def berit() -> None:
        use_cases.create_from_master(Caller("berit", frozenset()), "B", NyUtgaveFraMaster(
            master=Masterreferanse(eier="A", tjenestekode="T1", utgavekode="2"), tjenestekode="B2", utgavekode="2"))

    meanwhile(monkeypatch, store, "create_derived", berit)
    with contextlib.suppress(Conflict):  # refused is fine; a second service from the master service is not
        use_cases.create_from_master(Caller("bjorn", frozenset()), "B", NyUtgaveFraMaster(
            master=Masterreferanse(eier="A", tjenestekode="T1", utgavekode="1"), tjenestekode="B1", utgavekode="1"))
    assert len(store.list_services("B")) == 1, store.list_services("B")
