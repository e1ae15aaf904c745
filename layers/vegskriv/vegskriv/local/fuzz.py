"""``make fuzz``: schemathesis against the local stack's ``/openapi.json`` (opt-in, not in ``make test``).

Starts the local stack on a free port, takes a dev token from ``vegskriv token``, runs
``st run`` with it and prints how many requests were sent and how many answered 5xx, by
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
from pathlib import Path
from urllib.parse import urlsplit

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
        command = [str(bin_dir / "st"), "run", f"{stack.url}/openapi.json", "--url", stack.url,
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


if __name__ == "__main__":
    sys.exit(main())
