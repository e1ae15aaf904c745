"""`vegskriv send | status | valider | endringssett` against the local stack over HTTP, as a newcomer runs them."""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from pathlib import Path

import pytest

from tests.support.client import changeset, kum
from vegskriv.auth import issue_dev_token
from vegskriv.client import VegskrivClient
from vegskriv.local.cli import how_to_use, main
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
README_KUM = ROOT / "docs" / "eksempler" / "kum.json"


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"WAIT_FIRST_SECONDS": "1", "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


@pytest.fixture(scope="module")
def token() -> str:
    return issue_dev_token("olanor", ["0_bruker_fagdata"])


@pytest.fixture
def vegskriv(stack, token, capsys, monkeypatch):
    """Run the console script in-process with URL and token from the environment, as the banner says."""
    monkeypatch.setenv("VEGSKRIV_URL", stack.url)
    monkeypatch.setenv("VEGSKRIV_TOKEN", token)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_the_example_file_is_the_readme_walkthrough_kum() -> None:
    readme = README.read_text()
    heredoc = re.search(r"cat > /tmp/kum.json <<'JSON'\n(.*?)\nJSON\n", readme, re.S)
    assert heredoc and json.loads(heredoc.group(1)) == json.loads(README_KUM.read_text())


def test_the_make_run_banner_lines_work_as_printed(stack, vegskriv, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", [str(ROOT / ".venv" / "bin" / "vegskriv")])  # as `make run` starts it
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("VEGSKRIV_TOKEN")
    monkeypatch.delenv("VEGSKRIV_URL")
    lines = how_to_use(stack.url, "TOKEN-FROM-BANNER")
    # The walkthrough and the CLI read the variable the banner exports.
    assert "export VEGSKRIV_TOKEN=TOKEN-FROM-BANNER" in lines and "$VEGSKRIV_TOKEN" in README.read_text()
    send = re.search(r"^  (\S+) send (.+)$", lines, re.M)
    assert send and send.group(1) == ".venv/bin/vegskriv", lines  # not a bare `vegskriv`: it is not on PATH
    assert f"$({send.group(1)} token --user NAME" in lines and "make -s token" in lines
    monkeypatch.setenv("VEGSKRIV_TOKEN", issue_dev_token("olanor", ["0_bruker_fagdata"]))
    code, out, err = vegskriv("send", *send.group(2).split())
    assert code == 0 and "nye nvdbId: kum#1 → " in out, err


def test_send_wait_shows_progress_and_ends_with_the_new_nvdb_id(vegskriv, stack, token) -> None:
    code, out, err = vegskriv("send", str(README_KUM), "--wait")
    assert code == 0, err
    assert "registrert: endringssett" in err and "fremdrift: BEHANDLES" in err
    changeset_id = err.split("registrert: endringssett ", 1)[1].split()[0]
    status = VegskrivClient(stack.url, token).status(changeset_id)
    [made] = status.resultat.vegobjekter
    assert out.splitlines()[-1] == f"nye nvdbId: kum#1 → {made.nvdbId}"
    assert out.startswith(str(status.fremdrift)) and status.fremdrift.startswith("UTFØRT")


def test_an_invalid_changeset_prints_its_varsler_and_exits_avvist(vegskriv, tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(changeset(registrer=[kum("kum#bad", egenskaper=[{"typeId": 1586, "verdi": ["dyp"]}])])))
    code, out, _ = vegskriv("send", str(bad), "--wait")
    assert code == 1
    assert out.startswith("AVVIST:VALIDERINGSFEIL")
    assert re.search(r"feil\s+kum#bad\s+UGYLDIG_FLYTTALLFORMAT\s+1586", out), out
    assert "nye nvdbId" not in out
    code, out, _ = vegskriv("valider", str(bad))
    assert code == 1 and "UGYLDIG_FLYTTALLFORMAT" in out


def test_dry_run_validates_and_writes_nothing(vegskriv) -> None:
    code, out, err = vegskriv("send", str(README_KUM), "--wait", "--dry-run", "--json")
    assert code == 0, err
    status = json.loads(out)
    assert status["fremdrift"] == "UTFØRT" and status["behandlingsparametere"]["dryrun"] is True


def test_status_and_search_find_what_send_made(vegskriv) -> None:
    code, out, _ = vegskriv("send", str(README_KUM))
    assert code == 0
    changeset_id = out.strip()
    code, out, _ = vegskriv("status", changeset_id)
    assert code == 0 and changeset_id in out.splitlines()[0]
    code, out, _ = vegskriv("endringssett", "--antall", "50")
    assert code == 0 and changeset_id in out
    code, out, _ = vegskriv("endringssett", "--status", "AVVIST", "--json")
    assert code == 0 and all(t["status"]["fremdrift"] == "AVVIST" for t in json.loads(out)["endringssett"])


@pytest.mark.parametrize(("token", "why"), [
    ("", "Authorization-header mangler"),
    ("not-a-jwt", "tokenet ble avvist: Not enough segments"),
    (issue_dev_token("olanor", ["0_bruker_fagdata"], ttl_seconds=-10), "tokenet ble avvist: Signature has expired"),
    (issue_dev_token("olanor", ["0_bruker_fagdata"], issuer="someone-else"), "tokenet ble avvist: Invalid issuer"),
], ids=["missing", "malformed", "expired", "wrong-issuer"])
def test_a_refused_token_says_why(vegskriv, monkeypatch, token, why) -> None:
    monkeypatch.setenv("VEGSKRIV_TOKEN", token)
    code, _, err = vegskriv("endringssett")
    assert code == 5
    assert "→ 401: Unauthorized" in err and f"hvorfor: {why}" in err


def test_unreadable_files_and_a_silent_server_have_their_own_exit_codes(vegskriv, tmp_path) -> None:
    code, _, err = vegskriv("send", "/nope.json", "--wait")
    assert code == 2 and "kan ikke lese /nope.json" in err and "Traceback" not in err
    (tmp_path / "x.json").write_text("{not json")
    assert vegskriv("valider", str(tmp_path / "x.json"))[0] == 2
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    code, _, err = vegskriv("status", "x", "--url", f"http://127.0.0.1:{port}")
    assert code == 6 and "intet svar" in err


def test_a_changeset_not_finished_within_the_timeout_exits_4(vegskriv, admin) -> None:
    # Someone else's lock on the Kum's road keeps it waiting however fast the stack is; taking it waits
    # (409) while changesets of the other tests still hold that road.
    deadline = time.monotonic() + 60
    while (lock := admin.request("POST", "/rest/v1/lås", data=json.dumps({
            "vegobjekttyper": [{"typeId": 83, "låstype": "NORMAL"}], "varighetSekunder": 600,
            "stedfesting": [{"veglenkesekvensNvdbId": 1125766, "fra": 0.0, "til": 1.0}]}))).status_code == 409:
        assert time.monotonic() < deadline, lock.text
        time.sleep(0.2)
    assert lock.status_code == 201, lock.text
    try:
        code, _, err = vegskriv("send", str(README_KUM), "--wait", "--timeout", "1")
    finally:
        admin.request("DELETE", f"/rest/v1/lås/{lock.json()['id']}")
    assert code == 4, err
    assert re.search(r"er fortsatt (BEHANDLES|VENTER) etter 1 s \(følg med: vegskriv status \S+\)", err), err


def test_load_of_a_missing_file_is_a_message_not_a_traceback(vegskriv) -> None:
    code, _, err = vegskriv("load", "--network", "/nope.json", "--token", "t")
    assert code == 2 and err.startswith("vegskriv load: kan ikke lese /nope.json")


def test_the_root_is_an_index_without_a_token(stack) -> None:
    import requests

    r = requests.get(stack.url + "/", timeout=30)
    assert r.status_code == 200
    links = {link["rel"]: link["src"] for link in r.json()["lenker"]}
    assert links["swagger"] == stack.url + "/swagger" and requests.get(links["swagger"], timeout=30).ok
    assert {"openapi", "kontrollpanel", "generator", "helse"} <= set(links)
    page = requests.get(stack.url + "/", headers={"Accept": "text/html"}, timeout=30)
    assert page.headers["Content-Type"].startswith("text/html") and 'href="' + stack.url + '/swagger"' in page.text
