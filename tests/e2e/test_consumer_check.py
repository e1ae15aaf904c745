"""``vegskriv konsumentsjekk``: the reference consumer passes every check and is left as it was; a
consumer that breaks the contract is told which check failed and why (exit status 1)."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vegskriv.local.cli import main
from vegskriv.local.consumer import Copy, make_server
from vegskriv.local.consumer_check import check

pytestmark = pytest.mark.e2e


def _serve(copy: Copy) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, copy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def reference(tmp_path: Path) -> Iterator[tuple[str, Copy]]:
    copy = Copy(str(tmp_path / "kopi.db"))
    copy.apply([{"handling": "UPSERT", "id": i, "hash": f"h{i}", "data": {"id": i}} for i in range(1, 11)])
    for url in _serve(copy):
        yield url, copy


def test_the_reference_consumer_passes_and_keeps_its_copy(reference, capsys) -> None:
    url, copy = reference
    assert main(["konsumentsjekk", "--url", url, "--skriv"]) == 0
    out = capsys.readouterr().out
    assert out.count("✓") == 6 and "✗" not in out, out
    assert "10 id-er lest, 3 om gangen" in out
    assert [o["id"] for o in copy.page(0, 1000)["objekter"]] == list(range(1, 11))  # test ids removed


class IgnoresStart(Copy):
    def page(self, start: int, antall: int) -> dict[str, Any]:
        return super().page(0, antall)


class RefusesUnknownDeletes(Copy):
    def apply(self, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        unknown = [c for c in changes if c["handling"] == "DELETE" and self.get(int(c["id"])) is None]
        known = [c for c in changes if c not in unknown]
        return super().apply(known) + [{"id": c["id"], "ok": False, "melding": "finnes ikke"} for c in unknown]


@pytest.mark.parametrize(("broken", "failed", "why"), [
    (IgnoresStart, "GET /objekter, side for side", "stigende etter start"),
    (RefusesUnknownDeletes, "DELETE av et objekt den ikke har", "finnes ikke"),
])
def test_a_consumer_that_breaks_the_contract_is_told_where(tmp_path: Path, broken: type[Copy], failed: str,
                                                          why: str) -> None:
    copy = broken(str(tmp_path / "kopi.db"))
    copy.apply([{"handling": "UPSERT", "id": i, "hash": "h", "data": {}} for i in range(1, 8)])
    out = io.StringIO()
    for url in _serve(copy):
        assert check(url, write=True, out=out) is False
    line = next(line for line in out.getvalue().splitlines() if line.startswith("✗"))
    assert line.startswith(f"✗ {failed}:") and why in line, out.getvalue()
