"""``vegskriv local --data DIR``: the tables survive a kill -9, and a changeset that was under way
when the stack died is finished after the restart."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import Client, changeset, kum

ROOT = Path(__file__).resolve().parents[2]


class LocalProcess:
    """``vegskriv local`` in a process of its own, so it can be killed for real."""

    def __init__(self, data: Path, log: Path) -> None:
        self.log = log
        env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "CRITICAL"}
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "vegskriv.local.cli", "local", "--port", "0", "--data", str(data),
                 "--parameter", "WaitFirstSeconds=1"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not (match := re.search(r"REST API:\s+(http://\S+)", log.read_text(errors="replace"))):
            assert self.process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the local stack did not start in 60 s"
            time.sleep(0.1)
        self.url = match.group(1)

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: nothing is saved on the way out
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[LocalProcess]]:
    started: list[LocalProcess] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.kill()


def saved_state(data: Path, changeset_id: str) -> str | None:
    """The fremdrift of a changeset in the snapshot on disk (None while it is not there)."""
    path = data / "tables.json"
    if not path.is_file():
        return None
    tables: dict[str, list[dict[str, Any]]] = json.loads(path.read_text(encoding="utf-8"))["tables"]
    for item in tables.get("vegskriv-ChangesetsTable", []):
        if item.get("id") == {"S": changeset_id} and item["sk"] == {"S": "META"}:
            return str(item["fremdrift"]["S"])
    return None


def wait_saved(data: Path, changeset_id: str, state: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while saved_state(data, changeset_id) != state:
        assert time.monotonic() < deadline, f"{changeset_id} never saved as {state}"
        time.sleep(0.1)


def test_tables_survive_kill_9_and_interrupted_changesets_finish(tmp_path: Path,
                                                                 processes: list[LocalProcess]) -> None:
    data = tmp_path / "data"
    first = LocalProcess(data, tmp_path / "first.log")
    processes.append(first)
    olanor = Client(first.url, "olanor")
    done_id, status = olanor.run(changeset(registrer=[kum("kum#1"), kum("kum#2")]))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", status
    nvdb_ids = sorted(o["nvdbId"] for o in status["resultat"]["vegobjekter"])
    # Validated and holding its locks through a delay when the stack dies.
    delayed_id = olanor.register(changeset(registrer=[kum("kum#3")]), **{"X-NVDB-Delay": "3"})
    assert olanor.start(delayed_id).status_code == 202
    assert olanor.wait(delayed_id, until={"BEHANDLES"}) == "BEHANDLES"
    wait_saved(data, done_id, "UTFØRT_OG_ETTERBEHANDLET")
    wait_saved(data, delayed_id, "BEHANDLES")
    first.kill()

    second = LocalProcess(data, tmp_path / "second.log")
    processes.append(second)
    olanor = Client(second.url, "olanor")
    assert olanor.status(done_id)["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET"
    for nvdb_id in nvdb_ids:
        r = olanor.request("GET", f"/rest/v3/vegobjekter/83/{nvdb_id}")
        assert r.status_code == 200, r.text
        assert r.json()["versjoner"][0]["metadata"]["endringssettId"] == done_id
    assert olanor.wait(delayed_id, timeout=30) == "UTFØRT_OG_ETTERBEHANDLET"
    [resumed] = olanor.status(delayed_id)["resultat"]["vegobjekter"]
    assert olanor.request("GET", f"/rest/v3/vegobjekter/83/{resumed['nvdbId']}").status_code == 200
    second.stop()  # a clean stop saves the last state
    assert saved_state(data, delayed_id) == "UTFØRT_OG_ETTERBEHANDLET"
