"""``vegskriv tjenester``: the common service-owner admin tasks through the API (stdlib HTTP only).

    vegskriv tjenester eier       --kode A --navn NAVN --admin BRUKER [--admin ...]   (9_system_admin)
    vegskriv tjenester tjeneste   --eier A --tjeneste T --navn NAVN [--type INNSENDING|MELDING]
    vegskriv tjenester utgave     --eier A --tjeneste T --fil utgave.json
    vegskriv tjenester migrer     --eier A --tjeneste T --utgave U
    vegskriv tjenester master     --eier A --tjeneste T --utgave U [--fjern]
    vegskriv tjenester mastere
    vegskriv tjenester fra-master --eier B --master A/T/U --tjeneste T2 --utgave U2 [--push-url URL]
    vegskriv tjenester kø         --eier B [--tjenestekode T] [--antall N]
    vegskriv tjenester hent       --eier B --element ID
    vegskriv tjenester slett      --eier B --element ID

Each prints the API's answer as JSON. URL and token default to ``$VEGSKRIV_URL`` and ``$VEGSKRIV_TOKEN``.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.parse
from pathlib import Path
from typing import Any

from vegskriv.local.api_client import run

ROOT = "/rest/v1/tjenesteeiere"
ACTIONS = ("eier", "tjeneste", "utgave", "migrer", "master", "mastere", "fra-master", "kø", "hent", "slett")


def add_services_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``tjenester`` command to the ``vegskriv`` parser's subparsers."""
    parser = subparsers.add_parser("tjenester", help="tjenesteeiere, tjenester, utgaver, mastere og nedlastingskø",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("handling", choices=ACTIONS)
    parser.add_argument("--url", default=os.environ.get("VEGSKRIV_URL", "http://127.0.0.1:3000"),
                        help="API-ets adresse (standard: $VEGSKRIV_URL, ellers den lokale stakken)")
    parser.add_argument("--token", default=os.environ.get("VEGSKRIV_TOKEN"),
                        help="bearer token (standard: $VEGSKRIV_TOKEN)")
    for flag in ("--eier", "--kode", "--navn", "--tjeneste", "--utgave", "--fil", "--master", "--push-url",
                 "--tjenestekode", "--element"):
        parser.add_argument(flag)
    parser.add_argument("--admin", action="append", default=[], help="administrator (gjentas)")
    parser.add_argument("--type", default="INNSENDING", choices=("INNSENDING", "MELDING"))
    parser.add_argument("--antall", type=int)
    parser.add_argument("--fjern", action="store_true", help="master: fjern master-merket")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.set_defaults(func=cmd_tjenester)
    return parser


def _need(args: argparse.Namespace, *names: str) -> list[str]:
    missing = [f"--{n.replace('_', '-')}" for n in names if not getattr(args, n)]
    if missing:
        raise SystemExit(f"vegskriv tjenester {args.handling}: mangler {', '.join(missing)}")
    return [urllib.parse.quote(getattr(args, n), safe="") for n in names]


def request_for(args: argparse.Namespace) -> tuple[str, str, Any]:
    """(method, path, JSON body or None) for the command."""
    a = args.handling
    if a == "eier":
        _need(args, "kode", "navn")
        return "POST", ROOT, {"kode": args.kode, "navn": args.navn, "administratorer": args.admin}
    if a == "mastere":
        return "GET", "/rest/v1/mastertjenester", None
    [eier] = _need(args, "eier")
    owner = f"{ROOT}/{eier}"
    if a == "tjeneste":
        _need(args, "tjeneste", "navn")
        return "POST", f"{owner}/tjenester", {"tjenestekode": args.tjeneste, "navn": args.navn,
                                              "tjenestetype": args.type}
    if a == "utgave":
        tk, _ = _need(args, "tjeneste", "fil")
        try:
            body = json.loads(Path(args.fil).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SystemExit(f"{args.fil} er ikke gyldig JSON: {exc}") from exc
        return "POST", f"{owner}/tjenester/{tk}/utgaver", body
    if a in ("migrer", "master"):
        tk, uk = _need(args, "tjeneste", "utgave")
        edition = f"{owner}/tjenester/{tk}/utgaver/{uk}"
        if a == "migrer":
            return "POST", f"{edition}/migrer", None
        return ("DELETE" if args.fjern else "POST"), f"{edition}/master", None
    if a == "fra-master":
        _need(args, "master", "utgave")
        parts = args.master.split("/")
        if len(parts) != 3:
            raise SystemExit("vegskriv tjenester fra-master: --master er {eier}/{tjenestekode}/{utgavekode}")
        request: dict[str, Any] = {"master": dict(zip(("eier", "tjenestekode", "utgavekode"), parts, strict=True)),
                                   "utgavekode": args.utgave}
        if args.tjeneste:
            request["tjenestekode"] = args.tjeneste
        if args.push_url:
            request["oversendingsmetode"] = {"type": "PUSH", "url": args.push_url}
        return "POST", f"{owner}/utgaver-fra-master", request
    if a == "kø":
        query = {k: v for k, v in (("tjenestekode", args.tjenestekode), ("antall", args.antall)) if v}
        return "GET", f"{owner}/nedlastingskø" + (f"?{urllib.parse.urlencode(query)}" if query else ""), None
    [element] = _need(args, "element")
    return ("GET" if a == "hent" else "DELETE"), f"{owner}/nedlastingskø/{element}", None


def cmd_tjenester(args: argparse.Namespace) -> int:
    method, path, body = request_for(args)
    url = args.url.rstrip("/") + urllib.parse.quote(path, safe="/?=&%")
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    return run("tjenester", method, url, args.token, data, args.timeout)
