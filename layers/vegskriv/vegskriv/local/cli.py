"""``vegskriv`` console script: run the local stack, issue dev tokens, load reference data.

    vegskriv local [--port 3000] [--host 127.0.0.1] [--template PATH] [--moto-port N] [--data DIR]
                   [--provisjonering-hvert SECONDS]
    vegskriv token --user olanor --role 0_bruker_fagdata [--role ...] [--ttl-hours N]
    vegskriv load --url http://127.0.0.1:3000 (--catalog FILE | --network FILE | --objects FILE) --token T
    vegskriv tjenester HANDLING ...   (service owners' admin tasks; see local/services_cli.py)
    vegskriv send FILE [--wait] [--dry-run] | status ID | valider FILE | endringssett   (see `vegskriv send -h`)
    vegskriv provisjoner --konsument ID [--full] [--tørrkjøring] | godkjenn ...   (see local/provisioning_cli.py)
    vegskriv konsumentsjekk --url URL [--skriv]   (an HTTP consumer against the contract)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from vegskriv.local.api_client import call, print_body
from vegskriv.local.client_cli import add_client_parsers
from vegskriv.local.consumer import add_consumer_parser
from vegskriv.local.consumer_check import add_consumer_check_parser
from vegskriv.local.provisioning_cli import add_provisioning_parser
from vegskriv.local.rights_cli import add_rights_parser
from vegskriv.local.services_cli import add_services_parser

DEFAULT_USER = "olanor"
DEFAULT_ROLE = "0_bruker_fagdata"


def _parse_parameters(items: list[str]) -> dict[str, str]:
    parameters = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--parameter expects Name=Value, got {item!r}")
        parameters[key] = value
    return parameters


def cmd_local(args: argparse.Namespace) -> int:
    from vegskriv.auth import issue_dev_token
    from vegskriv.local.stack import LocalStack

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the optional moto server's access log
    logging.getLogger("botocore.credentials").setLevel(logging.WARNING)
    stack = LocalStack(args.template, host=args.host, port=args.port, moto_port=args.moto_port,
                       parameters=_parse_parameters(args.parameter), data_dir=args.data,
                       run_schedules=True, schedule_every=args.provisjonering_hvert)
    stopping = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stopping.set()

    try:
        stack.start()
    except KeyboardInterrupt:
        stack.stop()
        return 130
    except OSError as exc:  # e.g. the port is taken
        stack.stop()
        print(f"vegskriv local: cannot start: {exc}", file=sys.stderr)
        return 1
    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        token = issue_dev_token(DEFAULT_USER, [DEFAULT_ROLE])
        print(f"\nvegskriv local stack ready in {stack.startup_seconds:.1f}s "
              f"(template {stack.template_path})")
        print(f"  REST API:   {stack.url}   (open {stack.url}/ for Swagger UI, Kontrollpanel, Generator)")
        if args.moto_port is not None:
            print(f"  moto:       http://{args.host}:{args.moto_port}   "
                  f"(aws --endpoint-url http://{args.host}:{args.moto_port} --region {stack.region} ...)")
        if stack.snapshots is not None:
            print(f"  data:       {stack.snapshots.path}   (saved within a second of a change and on stop)")
        print(how_to_use(stack.url, token))
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        # a second Ctrl-C while stopping must not leave a traceback or half-stopped threads
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("\nstopping…", flush=True)
        stack.stop()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        print("stopped.", flush=True)
    return 0


def how_to_use(url: str, token: str) -> str:
    """The banner's copy-paste lines (tested by running them): the token, a curl, a send, other tokens."""
    me = _command()
    return "\n".join([
        f"  dev token for {DEFAULT_USER} ({DEFAULT_ROLE}), valid 12 h; in another terminal:",
        f"  export VEGSKRIV_TOKEN={token}",
        f'  curl -H "Authorization: Bearer $VEGSKRIV_TOKEN" {url}/rest/v3/endringssett',
        f"  {me} send docs/eksempler/kum.json --wait --url {url}",
        f"  other users/roles: export VEGSKRIV_TOKEN=$({me} token --user NAME --role 9_system_admin)"
        "   or $(make -s token TOKEN_USER=NAME TOKEN_ROLES=9_system_admin)"])


def _command() -> str:
    """How to call this script from the user's shell: `make run` runs .venv/bin/vegskriv, rarely on PATH."""
    path = Path(sys.argv[0])
    if path.name != "vegskriv" or not path.exists():
        return ".venv/bin/vegskriv"
    on_path = shutil.which("vegskriv")
    if on_path and Path(on_path).resolve() == path.resolve():
        return "vegskriv"
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else str(path)


def cmd_token(args: argparse.Namespace) -> int:
    from vegskriv.auth import issue_dev_token

    roles = args.role or [DEFAULT_ROLE]
    print(issue_dev_token(args.user, roles, ttl_seconds=int(args.ttl_hours * 3600)))
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    if args.catalog:
        source, path = Path(args.catalog), "/rest/v3/datakatalog"
    elif args.objects:
        source, path = Path(args.objects), "/rest/v3/vegobjekter"
    else:
        source, path = Path(args.network), "/rest/v3/vegnett/veglenkesekvenser"
    try:
        data = source.read_bytes()
    except OSError as exc:
        print(f"vegskriv load: kan ikke lese {source}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        json.loads(data)
    except ValueError as exc:
        print(f"{source} is not JSON: {exc}", file=sys.stderr)
        return 2
    url = args.url.rstrip("/") + path
    answer = call("PUT", url, args.token, data, args.timeout)
    if answer is None:
        return 1
    print(f"PUT {url} → {answer[0]}: loaded {source} ({len(data)} bytes)")
    print_body(answer[1])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vegskriv", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    local = sub.add_parser("local", help="run the whole stack locally (moto in-process + REST API)")
    local.add_argument("--port", type=int, default=3000, help="REST API port (0 = any free port)")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--template", default=None, help="template.yaml (default: found from the cwd)")
    local.add_argument("--moto-port", type=int, default=None,
                       help="also serve moto on this port, for the AWS CLI (default: off)")
    local.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                       help="override a template parameter, e.g. WaitFirstSeconds=1")
    local.add_argument("--data", metavar="DIR", default=None,
                       help="keep the tables in DIR across restarts (default: nothing is kept)")
    local.add_argument("--provisjonering-hvert", type=float, metavar="SECONDS", default=None,
                       help="fire the nightly provisioning schedule every SECONDS instead of at its "
                            "cron time (default: ProvisioningSchedule, 02:00 Europe/Oslo)")
    local.add_argument("-v", "--verbose", action="store_true")
    local.set_defaults(func=cmd_local)

    token = sub.add_parser("token", help="print a development token the local stack accepts")
    token.add_argument("--user", default=DEFAULT_USER)
    token.add_argument("--role", action="append", help=f"repeatable; default {DEFAULT_ROLE}")
    token.add_argument("--ttl-hours", type=float, default=12.0)
    token.set_defaults(func=cmd_token)

    load = sub.add_parser("load", help="load a data catalog or a road network through the admin API")
    load.add_argument("--url", default="http://127.0.0.1:3000")
    what = load.add_mutually_exclusive_group(required=True)
    what.add_argument("--catalog", help="datakatalog JSON file → PUT /rest/v3/datakatalog")
    what.add_argument("--network", help="road network JSON file → PUT /rest/v3/vegnett/veglenkesekvenser")
    what.add_argument("--objects", help="existing object versions JSON file → PUT /rest/v3/vegobjekter")
    load.add_argument("--token", required=True, help="a token with role 9_system_admin")
    load.add_argument("--timeout", type=float, default=120.0)
    load.set_defaults(func=cmd_load)
    add_rights_parser(sub)
    add_consumer_parser(sub)
    add_consumer_check_parser(sub)
    add_services_parser(sub)
    add_client_parsers(sub)
    add_provisioning_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
