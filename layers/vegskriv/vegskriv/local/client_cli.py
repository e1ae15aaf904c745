"""``vegskriv send | status | valider | endringssett``: the changeset API from a terminal, on :mod:`vegskriv.client`.

    vegskriv send FILE [--wait] [--dry-run] [--tjeneste EIER/KODE/UTGAVE] [--url URL] [--token T]
    vegskriv status ID
    vegskriv valider FILE
    vegskriv endringssett [--status S] [--aarsak A] [--bruker U] [--fra T] [--til T] [--antall N]

URL and token come from --url/--token, else $VEGSKRIV_URL/$VEGSKRIV_TOKEN, else the local stack
(http://127.0.0.1:3000) and no token; --user logs in through /rest/v1/oidc/authenticate instead
(password from --password, $VEGSKRIV_PASSWORD or a prompt). Exit codes: 0 UTFØRT*, 1 AVVIST,
2 usage or unreadable file, 3 KANSELLERT, 4 still not finished at --timeout, 5 HTTP error, 6 no answer.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import jwt

from vegskriv.changesets.models import Fremdrift, Status
from vegskriv.client import (
    DEFAULT_URL,
    GZIP_FROM_BYTES,
    UPLOAD_FROM_BYTES,
    ApiError,
    ClientError,
    Progress,
    Timeout,
    VegskrivClient,
)

EXIT_OK, EXIT_AVVIST, EXIT_USAGE, EXIT_KANSELLERT, EXIT_TIMEOUT, EXIT_HTTP, EXIT_NO_ANSWER = 0, 1, 2, 3, 4, 5, 6
OUTCOME = {Fremdrift.AVVIST: EXIT_AVVIST, Fremdrift.KANSELLERT: EXIT_KANSELLERT}


class UsageError(Exception):
    """A file that cannot be read or is not JSON: exit 2 with this message."""


# ---------------------------------------------------------------------- output


def table(headers: list[str], rows: list[list[Any]], out: TextIO) -> None:
    cells = [[("" if c is None else str(c)) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


def print_status(changeset_id: str | None, status: Status, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    reason = status.avvistårsak or status.venteårsak
    print(f"{status.fremdrift}{':' + reason if reason else ''}"
          + (f"  endringssett {changeset_id}" if changeset_id else ""), file=out)
    resultat = status.resultat
    if resultat is None:
        return
    objects = [[o.operasjon, o.tempId, o.nvdbId, o.versjon, o.typeId] for o in resultat.vegobjekter]
    if objects:
        print("vegobjekter:", file=out)
        table(["operasjon", "tempId", "nvdbId", "versjon", "typeId"], objects, out)
    varsler = [[level, v.referanse, v.kode, v.egenskapTypeId, v.melding]
               for level, group in (("feil", resultat.feil), ("advarsel", resultat.advarsler),
                                    ("notabene", resultat.notabener)) for v in group]
    varsler += [[level, v.referanse or o.tempId or o.nvdbId, v.kode, v.egenskapTypeId, v.melding]
                for o in resultat.vegobjekter
                for level, group in (("feil", o.feil), ("advarsel", o.advarsler), ("notabene", o.notabener))
                for v in group]
    if varsler:
        print("varsler:", file=out)
        table(["nivå", "referanse", "kode", "egenskap", "melding"], varsler, out)
    new = [f"{o.tempId} → {o.nvdbId}" for o in resultat.vegobjekter if o.tempId and o.nvdbId]
    if new and status.fremdrift in (Fremdrift.UTFØRT, Fremdrift.UTFØRT_OG_ETTERBEHANDLET):
        print("nye nvdbId: " + ", ".join(new), file=out)


class ProgressLine:
    """Progress on stderr: one line rewritten in place on a terminal, a line per change otherwise."""

    def __init__(self, out: TextIO | None = None):
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self.last: Fremdrift | None = None

    def __call__(self, progress: Progress, elapsed: float) -> None:
        wait = f", spør igjen om {progress.retry_after:g} s" if progress.retry_after else ""
        text = f"fremdrift: {progress.fremdrift} ({elapsed:.1f} s{wait})"
        if self.tty:
            print("\r\033[K" + text, end="", file=self.out, flush=True)
        elif progress.fremdrift != self.last:
            print(text, file=self.out, flush=True)
        self.last = progress.fremdrift

    def close(self) -> None:
        if self.tty and self.last is not None:
            print(file=self.out)


def why_refused(error: ApiError, token: str | None) -> str:
    """Why a 401: the gateway's reason if it gave one (the local stack does; API Gateway cannot), else
    what the token itself shows (read without verifying it: only the API knows the key)."""
    if error.reason:
        return error.reason
    if not token:
        return "ingen token: bruk --token, $VEGSKRIV_TOKEN eller --user (lokalt: make token)"
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        return f"tokenet er ikke en gyldig JWT ({exc})"
    exp = claims.get("exp")
    if isinstance(exp, int | float) and exp < time.time():
        return f"tokenet utløp {datetime.fromtimestamp(exp).isoformat(timespec='seconds')}"
    return (f"API-et godtar ikke tokenet (utsteder {claims.get('iss')!r}, publikum {claims.get('aud')!r}): "
            "feil utsteder eller signatur?")


# ---------------------------------------------------------------------- commands


def read_document(path: str) -> bytes:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"kan ikke lese {path}: {exc.strerror or exc}") from exc
    try:
        json.loads(data)
    except ValueError as exc:
        raise UsageError(f"{path} er ikke gyldig JSON: {exc}") from exc
    return data


def client_for(args: argparse.Namespace) -> VegskrivClient:
    if args.user:
        password = args.password or os.environ.get("VEGSKRIV_PASSWORD") or getpass.getpass(f"passord for {args.user}: ")
        return VegskrivClient.login(args.url, args.user, password, realm=args.realm, timeout=args.http_timeout,
                                    gzip_from_bytes=args.gzip_from)
    return VegskrivClient(args.url, args.token, timeout=args.http_timeout, gzip_from_bytes=args.gzip_from)


def cmd_send(args: argparse.Namespace, client: VegskrivClient) -> int:
    document = read_document(args.file)
    changeset_id = client.register(document, dryrun=args.dry_run, tjeneste=args.tjeneste, upload=args.opplasting)
    print(f"registrert: endringssett {changeset_id}", file=sys.stderr)
    client.start(changeset_id)
    if not args.wait:
        print(changeset_id)
        return EXIT_OK
    progress = ProgressLine()
    try:
        status = client.follow(changeset_id, timeout=args.timeout, on_progress=progress)
    finally:
        progress.close()
    return report(changeset_id, status, args)


def report(changeset_id: str | None, status: Status, args: argparse.Namespace) -> int:
    if args.json:
        print(status.model_dump_json(indent=2, exclude_none=True))
    else:
        print_status(changeset_id, status)
    return OUTCOME.get(status.fremdrift, EXIT_OK)


def cmd_status(args: argparse.Namespace, client: VegskrivClient) -> int:
    report(args.id, client.status(args.id), args)
    return EXIT_OK  # the outcome of a changeset one only looks at is not this command's failure


def cmd_valider(args: argparse.Namespace, client: VegskrivClient) -> int:
    return report(None, client.validate(read_document(args.file)), args)


def _epoch_ms(text: str | None) -> int | None:
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError as exc:
        raise UsageError(f"{text!r} er verken epoch-ms eller en ISO-tid (2025-01-31 eller 2025-01-31T12:00)") from exc


def cmd_endringssett(args: argparse.Namespace, client: VegskrivClient) -> int:
    found = client.search(antall=args.antall, start=args.start, stigende=args.stigende,
                          fra_epoch_ms=_epoch_ms(args.fra), til_epoch_ms=_epoch_ms(args.til), status=args.status,
                          årsak=args.aarsak, bruker_eller_klient=args.bruker)
    if args.json:
        print(found.model_dump_json(indent=2))
        return EXIT_OK
    rows = [[t.id, t.status.fremdrift + (f":{r}" if (r := t.status.avvistårsak or t.status.venteårsak) else ""),
             t.status.mottatt, t.status.eier, t.status.klient] for t in found.endringssett]
    table(["id", "fremdrift", "mottatt", "eier", "klient"], rows, sys.stdout)
    print(f"{len(rows)} av {found.antallTotalt} (fra nr. {args.start})", file=sys.stderr)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Run a client command; every failure becomes a message on stderr and its exit code."""
    token = args.token
    try:
        client = client_for(args)
        token = client.token
        return int(args.command_func(args, client))
    except UsageError as exc:
        print(f"vegskriv {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Timeout as exc:
        print(f"vegskriv {args.command}: {exc} etter {args.timeout:g} s "
              f"(følg med: vegskriv status {exc.changeset_id})", file=sys.stderr)
        return EXIT_TIMEOUT
    except ApiError as exc:
        print(f"vegskriv {args.command}: {exc.method} {exc.url} → {exc.status}: {exc.message}", file=sys.stderr)
        if exc.status == 401:
            print(f"  hvorfor: {why_refused(exc, token)}", file=sys.stderr)
        return EXIT_HTTP
    except ClientError as exc:
        print(f"vegskriv {args.command}: intet svar: {exc} (kjører `make run`, eller er --url riktig?)",
              file=sys.stderr)
        return EXIT_NO_ANSWER


def common_parser() -> argparse.ArgumentParser:
    """--url, --token, --user and the other options every API command shares (a parent parser)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=os.environ.get("VEGSKRIV_URL", DEFAULT_URL),
                        help="API-ets rot (standard: $VEGSKRIV_URL eller %(default)s)")
    common.add_argument("--token", default=os.environ.get("VEGSKRIV_TOKEN"), help="bearer-token ($VEGSKRIV_TOKEN)")
    common.add_argument("--user", help="logg inn via /rest/v1/oidc/authenticate i stedet for --token")
    common.add_argument("--password", help="passord til --user ($VEGSKRIV_PASSWORD, ellers spørres det)")
    common.add_argument("--realm", default="EMPLOYEE", help="EMPLOYEE, SERVICE_ACCOUNT eller EXTERNAL")
    common.add_argument("--json", action="store_true", help="skriv svaret som JSON")
    common.add_argument("--http-timeout", type=float, default=30.0, help="sekunder per HTTP-kall")
    common.set_defaults(gzip_from=GZIP_FROM_BYTES)  # --gzip only where a changeset is sent (add_gzip)
    return common


def add_gzip(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gzip", dest="gzip_from", action="store_const", const=0, default=GZIP_FROM_BYTES,
                        help=f"send endringssettet gzip-komprimert (gjøres uansett fra {GZIP_FROM_BYTES:,} byte)")


def add_client_parsers(subparsers: Any) -> None:
    """Add send, status, valider and endringssett to the ``vegskriv`` parser's subparsers."""
    common = common_parser()

    def add(name: str, func: Any, help_text: str) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, parents=[common], help=help_text, description=__doc__,
                                       formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.set_defaults(func=run, command_func=func, command=name)
        return parser

    send = add("send", cmd_send, "registrer og start et endringssett (--wait: følg det til det er ferdig)")
    send.add_argument("file", metavar="FILE", help="endringssettet (JSON)")
    add_gzip(send)
    send.add_argument("--wait", action="store_true", help="følg fremdriften og skriv resultatet")
    send.add_argument("--opplasting", action="store_true",
                      help=f"last opp via S3 i to trinn (gjøres uansett fra {UPLOAD_FROM_BYTES:,} byte sendt)")
    send.add_argument("--dry-run", action="store_true", help="X-NVDB-DryRun: valider, skriv ingenting")
    send.add_argument("--tjeneste", metavar="EIER/KODE/UTGAVE", help="send gjennom en innsendingstjeneste")
    send.add_argument("--timeout", type=float, default=600.0, help="sekunder --wait venter (standard %(default)s)")
    status = add("status", cmd_status, "status, resultat og varsler for et endringssett")
    status.add_argument("id", metavar="ID")
    valider = add("valider", cmd_valider, "valider et endringssett synkront (lagrer ingenting)")
    valider.add_argument("file", metavar="FILE")
    add_gzip(valider)
    search = add("endringssett", cmd_endringssett, "søk i endringssett")
    search.add_argument("--status", choices=[f.value for f in Fremdrift])
    search.add_argument("--aarsak", "--årsak", dest="aarsak", help="venteårsak eller avvistårsak")
    search.add_argument("--bruker", help="brukernavn eller klient")
    search.add_argument("--fra", help="mottatt fra (epoch-ms eller ISO-tid)")
    search.add_argument("--til", help="mottatt til (epoch-ms eller ISO-tid)")
    search.add_argument("--antall", type=int, default=20)
    search.add_argument("--start", type=int, default=1, help="første treff (1-basert)")
    search.add_argument("--stigende", action="store_true", help="eldste først")
