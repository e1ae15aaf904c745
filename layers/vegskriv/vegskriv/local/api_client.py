"""The admin commands' HTTP call to a running stack (stdlib only: the CLI needs no extra deps)."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request


def call(method: str, url: str, token: str, data: bytes | None, timeout: float) -> tuple[int, str] | None:
    """Send one request; print why it failed and return None, or return (status, body)."""
    headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        print(f"{method} {url} → {err.code}: {err.read().decode('utf-8', 'replace')}", file=sys.stderr)
    except urllib.error.URLError as err:
        print(f"{method} {url} failed: {err.reason} (is `vegskriv local` running?)", file=sys.stderr)
    return None


def print_body(body: str) -> None:
    if body:
        try:
            print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
        except ValueError:
            print(body)


def run(command: str, method: str, url: str, token: str | None, data: bytes | None, timeout: float) -> int:
    """One admin command: refuse without a token, send, print the answer; the exit code."""
    if not token:
        print(f"vegskriv {command}: mangler token (--token eller $VEGSKRIV_TOKEN)", file=sys.stderr)
        return 2
    answer = call(method, url, token, data, timeout)
    if answer is None:
        return 1
    print(f"{method} {url} → {answer[0]}", file=sys.stderr)
    print_body(answer[1])
    return 0
