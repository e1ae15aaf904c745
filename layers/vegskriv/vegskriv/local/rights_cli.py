"""``vegskriv rettigheter``: show, set and remove data rights through the API (stdlib HTTP only).

    vegskriv rettigheter vis   [--url URL] [--token T] [--bruker U]     (no --bruker: your own)
    vegskriv rettigheter sett  [--url URL] [--token T] --bruker U --fil rettigheter.json
    vegskriv rettigheter slett [--url URL] [--token T] --bruker U

The token defaults to ``$VEGSKRIV_TOKEN`` (what ``vegskriv local`` prints); ``sett`` and ``slett``
need one with role 9_system_admin (``vegskriv token --user admin --role 9_system_admin``).
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.parse
from pathlib import Path
from typing import Any

from vegskriv.local.api_client import run

PATH = "/rest/v3/rettigheter"


def add_rights_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``rettigheter`` command to the ``vegskriv`` parser's subparsers."""
    parser = subparsers.add_parser("rettigheter", help="vis, sett eller slett datarettigheter via API-et",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("handling", choices=("vis", "sett", "slett"))
    parser.add_argument("--url", default="http://127.0.0.1:3000")
    parser.add_argument("--token", default=os.environ.get("VEGSKRIV_TOKEN"),
                        help="bearer token (standard: $VEGSKRIV_TOKEN)")
    parser.add_argument("--bruker", help="brukernavn (vis uten --bruker viser egne rettigheter)")
    parser.add_argument("--fil", help="JSON-fil med datarettighetene (for sett)")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.set_defaults(func=cmd_rettigheter)
    return parser


def _request(args: argparse.Namespace) -> tuple[str, str, bytes | None]:
    """(method, url, body) for the command; SystemExit with a message on missing arguments."""
    base = args.url.rstrip("/") + PATH
    if args.handling != "vis" and not args.bruker:
        raise SystemExit(f"vegskriv rettigheter {args.handling}: --bruker er påkrevd")
    user_url = f"{base}/{urllib.parse.quote(args.bruker, safe='')}" if args.bruker else f"{base}/meg"
    if args.handling == "vis":
        return "GET", user_url, None
    if args.handling == "slett":
        return "DELETE", user_url, None
    if not args.fil:
        raise SystemExit("vegskriv rettigheter sett: --fil er påkrevd")
    data = Path(args.fil).read_bytes()
    try:
        json.loads(data)
    except ValueError as exc:
        raise SystemExit(f"{args.fil} er ikke gyldig JSON: {exc}") from exc
    return "PUT", user_url, data


def cmd_rettigheter(args: argparse.Namespace) -> int:
    method, url, data = _request(args)
    return run("rettigheter", method, url, args.token, data, args.timeout)
