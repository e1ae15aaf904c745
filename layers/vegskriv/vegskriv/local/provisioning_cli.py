"""``vegskriv provisjoner``: start a provisioning run now, follow it, print its report (on :mod:`vegskriv.client`).

    vegskriv provisjoner --konsument ID [--full] [--tørrkjøring] [--url URL] [--token T] [--timeout S]
    vegskriv provisjoner godkjenn --konsument ID --kjøring KJØRING_ID

The run is started through ``POST /rest/v1/konsumenter/{id}/kjøringer`` and followed through its
report; a progress bar on stderr shows the objects compared and sent chunk by chunk, the report
goes to stdout. ``godkjenn`` releases a run in KARANTENE (its deletes are applied) and follows it.
URL and token as for ``vegskriv send``. Exit codes: 0 FULLFØRT, 1 FEILET, 2 usage, 3 KARANTENE,
4 still PÅGÅR at --timeout, 5 HTTP error, 6 no answer, 7 FULLFØRT but some objects failed (they are
sent again in the next run).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from vegskriv.client import RunTimeout, VegskrivClient
from vegskriv.local.client_cli import EXIT_OK, EXIT_TIMEOUT, UsageError, common_parser, run, table
from vegskriv.provisioning.model import Kjøring

EXIT_FEILET, EXIT_KARANTENE, EXIT_PARTLY = 1, 3, 7
FAILED_SHOWN = 20  # failed objects listed under the report; the rest are in the log


def outcome(run: Kjøring) -> int:
    if run.status == "FEILET":
        return EXIT_FEILET
    if run.status == "KARANTENE":
        return EXIT_KARANTENE
    return EXIT_PARTLY if run.feilet else EXIT_OK


class RunProgress:
    """A rich progress bar on stderr: objects compared and sent so far (the total is not known
    until the walk ends, so the bar pulses and the counts carry the news)."""

    def __init__(self, out: TextIO | None = None):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
                                 console=Console(file=out or sys.stderr), transient=False)
        self.task: Any = None

    def __call__(self, run: Kjøring, _elapsed: float) -> None:
        sent = run.opprettet + run.oppdatert + run.slettet
        counts = (f"sammenlignet {run.hentet:,} (konsumenten {run.konsumentAntall:,}), sendt {sent:,}"
                  + (f", feilet {run.feilet:,}" if run.feilet else "")
                  + (f", slettinger som venter {run.ventendeSlettinger:,}" if run.fase == "SAMMENLIGN"
                     and run.ventendeSlettinger else ""))
        description = f"{run.modus} {run.fase.lower()}" if run.status == "PÅGÅR" else run.status
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task(description, total=None, counts=counts)
        done = run.status != "PÅGÅR"
        self.progress.update(self.task, description=description, counts=counts,
                             total=1 if done else None, completed=1 if done else 0)

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()


def print_report(run: Kjøring, client: VegskrivClient, out: TextIO) -> None:
    mode = run.modus + (", tørrkjøring" if run.tørrkjøring else "")
    print(f"{run.status}  kjøring {run.id}  konsument {run.konsumentId}  ({mode})", file=out)
    table(["hentet", "uendret", "opprettet", "oppdatert", "slettet", "feilet"],
          [[run.hentet, run.uendret, run.opprettet, run.oppdatert, run.slettet, run.feilet]], out)
    print(f"  startet {run.startet}  ferdig {run.ferdig or '-'}  vannmerke {run.vannmerke or '-'}", file=out)
    for note in run.merknader:
        print(f"  merknad: {note}", file=out)
    if run.feilet:
        failed: list[list[Any]] = []
        start: int | None = None
        while len(failed) < FAILED_SHOWN:
            entries, start = client.run_log(run.konsumentId, run.id, start=start, antall=500)
            failed += [[e["id"], e.get("melding", "")] for e in entries if e["handling"] == "FEILET"]
            if start is None:
                break
        print(f"  feilet (sendes igjen i neste kjøring; de første {FAILED_SHOWN}):", file=out)
        table(["id", "melding"], failed[:FAILED_SHOWN], out)
    if run.status == "KARANTENE":
        print(f"  {run.ventendeSlettinger} slettinger venter på godkjenning. Se hvilke: "
              f"vegskriv provisjoner --konsument {run.konsumentId} --full --tørrkjøring", file=out)
        print(f"  godkjenn: vegskriv provisjoner godkjenn --konsument {run.konsumentId} --kjøring {run.id}",
              file=out)
    print(f"  logg: GET /rest/v1/konsumenter/{run.konsumentId}/kjøringer/{run.id}/logg", file=out)


def _follow(args: argparse.Namespace, client: VegskrivClient, started: Kjøring) -> int:
    print(f"startet: kjøring {started.id} ({started.modus}) for konsument {started.konsumentId}", file=sys.stderr)
    progress = RunProgress()
    try:
        report = client.follow_run(started.konsumentId, started.id, timeout=args.timeout, interval=args.interval,
                                   on_progress=progress)
    except RunTimeout as exc:
        progress.close()
        print(f"vegskriv provisjoner: {exc} etter {args.timeout:g} s (følg med: GET /rest/v1/konsumenter/"
              f"{started.konsumentId}/kjøringer/{started.id})", file=sys.stderr)
        return EXIT_TIMEOUT
    progress.close()
    if args.json:
        print(report.model_dump_json(indent=2, exclude={"etter"}))
    else:
        print_report(report, client, sys.stdout)
    return outcome(report)


def cmd_provisjoner(args: argparse.Namespace, client: VegskrivClient) -> int:
    if args.handling == "godkjenn":
        if not args.kjoring:
            raise UsageError("godkjenn: mangler --kjøring (id-en til kjøringen i KARANTENE)")
        return _follow(args, client, client.approve_run(args.konsument, args.kjoring))
    return _follow(args, client, client.start_run(args.konsument, full=args.full, dry_run=args.dry_run))


def add_provisioning_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("provisjoner", parents=[common_parser()], description=__doc__,
                                   help="kjør provisjonering til en konsument nå (fremdrift og rapport)",
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("handling", nargs="?", default="kjør", choices=("kjør", "godkjenn"),
                        help="kjør (standard) eller godkjenn en kjøring i KARANTENE")
    parser.add_argument("--konsument", required=True, metavar="ID")
    parser.add_argument("--full", action="store_true", help="FULL: sammenlign alt (standard: DELTA)")
    parser.add_argument("--tørrkjøring", "--torrkjoring", "--dry-run", dest="dry_run", action="store_true",
                        help="rapporter hva som ville skjedd, skriv ingenting hos konsumenten")
    parser.add_argument("--kjøring", "--kjoring", dest="kjoring", metavar="KJØRING_ID", help="til godkjenn")
    parser.add_argument("--timeout", type=float, default=3600.0, help="sekunder å følge kjøringen (%(default)s)")
    parser.add_argument("--interval", type=float, default=0.5, help="sekunder mellom hver rapport (%(default)s)")
    parser.set_defaults(func=run, command_func=cmd_provisjoner, command="provisjoner")
