"""``make fuzz``: schemathesis against the local stack's ``/openapi.json`` (opt-in, not in ``make test``).

Starts the local stack on a free port, takes a dev token from ``vegskriv token``, makes one of
each resource a path can name (:func:`seed`: an owner with a service and an edition, a consumer
and a run, a changeset, a lock, a binary, an upload ticket, a stored Kum) and gives their ids to
schemathesis for those path parameters, so that operations on existing resources get past 404.
Then runs ``st run`` and prints how many requests were sent and how many answered 5xx, by
operation. Exit status 1 when there was any 5xx. Extra ``st run`` options: ``FUZZ_ARGS``.
"""

from __future__ import annotations

import collections
import json
import os
import shlex
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from vegskriv.api import examples
from vegskriv.local.stack import LocalStack

DEFAULT_ARGS = "--checks not_a_server_error --max-examples 50 --workers 4 --phases examples,coverage,fuzzing"


def main() -> int:
    bin_dir = Path(sys.executable).parent
    # The administrator's role too: without it the administrators' operations only ever answer 403.
    roles = os.environ.get("FUZZ_ROLES", "0_bruker_fagdata,9_system_admin").split(",")
    token = subprocess.run([str(bin_dir / "vegskriv"), "token", "--user", "fuzzer",
                            *[arg for role in roles for arg in ("--role", role)]],
                           check=True, capture_output=True, text=True).stdout.strip()
    extra = shlex.split(os.environ.get("FUZZ_ARGS", DEFAULT_ARGS))
    with tempfile.TemporaryDirectory() as reports, \
            LocalStack(port=0, env={"POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as stack:
        config = Path(reports) / "schemathesis.toml"
        config.write_text("[parameters]\n" + "".join(f'"path.{name}" = {json.dumps(value)}\n'
                                                       for name, value in seed(stack.url, token).items()))
        command = [str(bin_dir / "st"), "--config-file", str(config), "run", f"{stack.url}/openapi.json",
                   "--url", stack.url,
                   "-H", f"Authorization: Bearer {token}", "--report", "har", "--report-dir", reports,
                   *extra]
        print("$", shlex.join(command).replace(token, "$TOKEN"), flush=True)
        subprocess.run(command, check=False)
        entries = [entry for har in Path(reports).glob("har-*.json")
                   for entry in json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]]
    errors = collections.Counter(
        f"{e['response']['status']} {e['request']['method']} {urlsplit(e['request']['url']).path}"
        for e in entries if e["response"]["status"] >= 500)
    print(f"\nfuzz: {len(entries)} requests, {sum(errors.values())} answered 5xx")
    for line, count in errors.most_common():
        print(f"  {count:5d}  {line}")
    return 1 if errors else 0


def seed(url: str, token: str) -> dict[str, str]:
    """One resource of each kind, made through the API; path parameter name → its id. A kind that
    cannot be made is left out (said on stderr): its operations are fuzzed with generated ids."""

    def call(method: str, path: str, body: Any, content_type: str = "application/json") -> Any:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(url + quote(path), data=data, method=method, headers={
            "Authorization": f"Bearer {token}", "Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=30) as answer:
            location = answer.headers.get("Location") or ""
            text = answer.read().decode()
        found = json.loads(text) if text else {}
        return found.get("id") if isinstance(found, dict) and "id" in found else location.rsplit("/", 1)[-1]

    owner, service = "FUZZ", "/rest/v1/tjenesteeiere/FUZZ/tjenester"
    steps: list[tuple[str, str, str, Any, str]] = [
        ("eier", "POST", "/rest/v1/tjenesteeiere", {**examples.OWNER, "kode": owner, "administratorer": ["fuzzer"]},
         owner),
        ("tjenestekode", "POST", service, {**examples.SERVICE, "tjenestekode": "T1"}, "T1"),
        ("utgavekode", "POST", f"{service}/T1/utgaver", examples.EDITION, "1"),
        ("konsument_id", "POST", "/rest/v1/konsumenter", {**examples.CONSUMER, "id": "fuzz",
                                                          "mål": {"type": "DYNAMODB"}}, "fuzz"),
        ("kjoring_id", "POST", "/rest/v1/konsumenter/fuzz/kjøringer", examples.RUN, ""),
        ("endringssett_id", "POST", "/rest/v3/endringssett", examples.CHANGESET, ""),
        ("lock_id", "POST", "/rest/v1/lås", examples.LOCK, ""),
        ("binaer_id", "POST", "/rest/v3/binaer", b"%PDF-1.4 fuzz", ""),
        ("opplasting_id", "POST", "/rest/v3/endringssett/opplasting", {}, ""),
        ("nvdb_id", "PUT", "/rest/v3/vegobjekter", examples.STORED_KUM, "7001"),
    ]
    found = {"brukernavn": "fuzzer", "type_id": "83", "vls_id": "1125766"}
    for name, method, path, body, known in steps:
        try:
            made = call(method, path, body, "application/pdf" if isinstance(body, bytes) else "application/json")
        except (urllib.error.URLError, ValueError) as exc:
            print(f"fuzz: could not make {name} ({method} {path}: {exc})", file=sys.stderr)
            continue
        found[name] = known or made
    return found


if __name__ == "__main__":
    sys.exit(main())
