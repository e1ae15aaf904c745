"""Section ``e2e``: one changeset of N objects through the local stack, with a per-phase breakdown
and what AWS would bill for it, per changeset and per object."""

from __future__ import annotations

import gzip
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from bench.billing import Usage, execution_history, state_transitions
from bench.objects import build_objects, changeset, type_counts
from bench.output import Rows, iso_to_epoch, print_table
from bench.stack import TERMINAL, Bench, Client

STEP_ORDER = ("begin", "validate", "acquireLocks", "effectuate", "commit", "releaseLocks", "postProcess")


def section_e2e(bench: Bench) -> dict[str, Any]:
    n = bench.args.objects
    figures, rows = run_e2e(bench, bench.stack(), n)
    print_table(f"End to end on the local stack: one changeset, {n} registrer objects", rows)
    print_billing(figures["billed"], n)
    return figures


def _is_client_poll(where: tuple[str, str]) -> bool:
    """The bench's own fremdrift polls: billed too, but per poll, not per object."""
    return where[0] in ("ApiFunction", "AuthorizerFunction") and where[1].endswith("/fremdrift")


def billed(usage: Usage, invocations: list[dict[str, Any]], history: list[dict[str, Any]],
           n: int) -> dict[str, Any]:
    """What AWS bills for one changeset: the requests its Lambda invocations made (the client's
    fremdrift polls apart), the invocations and the state transitions."""
    own = usage.only(lambda where: where != ("", "") and not _is_client_poll(where))
    polls = usage.only(_is_client_poll)
    lambdas: dict[str, int] = {}
    for c in invocations:
        if not _is_client_poll((c["function"], c["what"])):
            lambdas[c["function"]] = lambdas.get(c["function"], 0) + 1
    dynamodb = own.by_operation("dynamodb")
    figures = {
        "objects": n,
        "dynamodb_requests": dynamodb, "dynamodb_requests_total": sum(dynamodb.values()),
        "dynamodb_capacity_units_moto": own.capacity_by_operation(),
        "dynamodb_requests_without_capacity": dict(sorted(
            {op: c for (_, op), c in own.without_capacity.items()}.items())),
        "dynamodb_requests_by_invocation": own.by_invocation("dynamodb"),
        "s3_requests": own.by_operation("s3"),
        "sqs_requests": own.by_operation("sqs"),
        "stepfunctions_requests": own.by_operation("stepfunctions"),
        "lambda_invocations": dict(sorted(lambdas.items())),
        "lambda_invocations_total": sum(lambdas.values()),
        "stepfunctions_state_transitions": state_transitions(history),
        "stepfunctions_history_events": len(history),
        "fremdrift_polls_dynamodb_requests": polls.by_operation("dynamodb"),
    }
    figures["dynamodb_requests_per_object"] = round(figures["dynamodb_requests_total"] / n, 3)
    return figures


def print_billing(f: dict[str, Any], n: int) -> None:
    def per(count: float) -> float:
        return round(count / n, 3)

    rows: Rows = [("DynamoDB requests", f["dynamodb_requests_total"], f"({per(f['dynamodb_requests_total'])} "
                                                                      "per object)")]
    capacity = f["dynamodb_capacity_units_moto"]
    for op, count in f["dynamodb_requests"].items():
        units = f" {capacity[op]:g} capacity units (moto)" if op in capacity else ""
        rows.append((f"  {op}", count, f"({per(count)} per object){units}"))
    for label, key in (("S3 requests", "s3_requests"), ("SQS requests", "sqs_requests"),
                       ("Step Functions API requests", "stepfunctions_requests")):
        total = sum(f[key].values())
        rows.append((label, total, ", ".join(f"{op} {c}" for op, c in f[key].items())))
    rows.append(("Lambda invocations", f["lambda_invocations_total"],
                 ", ".join(f"{fn} {c}" for fn, c in f["lambda_invocations"].items())))
    rows.append(("Step Functions state transitions", f["stepfunctions_state_transitions"],
                 f"({per(f['stepfunctions_state_transitions'])} per object; "
                 f"{f['stepfunctions_history_events']} history events)"))
    rows += [(f"  DynamoDB in {where}", sum(ops.values()), ", ".join(f"{op} {c}" for op, c in ops.items()))
             for where, ops in f["dynamodb_requests_by_invocation"].items()]
    print_table(f"What AWS bills for this changeset ({n:,} objects; the client's fremdrift polls apart)", rows)


def run_e2e(bench: Bench, stack: Any, n: int, before_register: Callable[[], None] | None = None,
            document: dict[str, Any] | None = None, gzipped: bool = False) -> tuple[dict[str, Any], Rows]:
    """Register, start and follow one changeset of n objects (``document``, else n registrer
    objects); the figures and the table rows. ``gzipped``: sent with Content-Encoding: gzip."""
    client = Client(stack.url, "benchuser", ["0_bruker_fagdata"])
    if document is None:
        document = changeset(build_objects(n))
    body = json.dumps(document)
    counts = type_counts([o for op in document.values() if isinstance(op, dict) for o in op["vegobjekter"]])
    del document  # only the JSON text is sent; the dicts would only add to the client's memory
    if before_register is not None:
        before_register()

    usage_before = bench.counter.snapshot()
    t_register = time.time()
    if gzipped:
        sent = gzip.compress(body.encode(), 6)
        r = client.request("POST", "/rest/v3/endringssett", data=sent,
                           headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        if r.status_code != 201:
            raise RuntimeError(f"register answered {r.status_code}: {r.text[:500]}")
        changeset_id = str(r.headers["Location"].rsplit("/", 1)[1])
    else:
        changeset_id = client.register_text(body)
    t_registered = time.time()
    client.start_ok(changeset_id)
    t_started = time.time()
    seen: dict[str, float] = {}
    polls = 0
    deadline = time.monotonic() + bench.args.e2e_timeout
    while True:
        state = client.fremdrift(changeset_id)
        polls += 1
        seen.setdefault(state, time.time())
        if state in TERMINAL:
            break
        if time.monotonic() > deadline:
            done = sorted((c for c in bench.invocations.between(t_register, time.time())
                           if c["function"] == "WorkflowFunction"), key=lambda c: c["start"])
            steps = ", ".join(f"{c['what']} {c['end'] - c['start']:.1f} s" for c in done) or "none"
            raise RuntimeError(f"{changeset_id} still {state} after {bench.args.e2e_timeout}s "
                               f"(workflow steps finished: {steps})")
        time.sleep(bench.args.poll_interval)
    t_done = seen[state]
    usage = bench.counter.snapshot() - usage_before
    status = client.status(changeset_id)
    if state != "UTFØRT_OG_ETTERBEHANDLET":
        raise RuntimeError(f"changeset ended {state}: {json.dumps(status, ensure_ascii=False)[:2000]}")
    results = status["resultat"]["vegobjekter"]
    nvdb_ids = {o.get("nvdbId") for o in results if o.get("nvdbId")}
    if len(results) != n or len(nvdb_ids) != n:
        raise RuntimeError(f"expected {n} objects with distinct nvdbIds, got {len(results)} / {len(nvdb_ids)}")

    total = t_done - t_register
    figures: dict[str, Any] = {
        "objects": n, "types": counts, "body_bytes": len(body.encode()),
        "sent_bytes": len(sent) if gzipped else len(body.encode()),
        "changeset_id": changeset_id, "final_state": state, "nvdb_ids": len(nvdb_ids),
        "end_to_end_s": round(total, 3), "objects_per_s": round(n / total, 1),
        "poll_interval_s": bench.args.poll_interval, "fremdrift_polls": polls,
        "states_seen_s": {k: round(v - t_register, 3) for k, v in seen.items()},
    }

    # Phases from the status timestamps (server clock, millisecond precision).
    mottatt = iso_to_epoch(status.get("mottatt"))
    committed = iso_to_epoch((status.get("transaksjon") or {}).get("tidspunkt"))
    finished = iso_to_epoch(status.get("fremdriftOppdatert"))
    from_status: dict[str, float] = {}
    if mottatt and committed and finished:
        from_status = {"mottatt → transaksjon.tidspunkt (commit)": round(committed - mottatt, 3),
                       "transaksjon.tidspunkt → fremdriftOppdatert (etterbehandlet)": round(finished - committed, 3),
                       "mottatt → fremdriftOppdatert": round(finished - mottatt, 3)}
    figures["phases_from_status_s"] = from_status

    # Phases from the recorded Lambda invocations of this changeset's processing.
    calls = bench.invocations.between(t_register - 0.001, t_done + 0.001)
    figures["billed"] = billed(usage, calls, execution_history(stack, changeset_id), n)
    steps = [c for c in calls if c["function"] == "WorkflowFunction"]
    dispatch = [c for c in calls if c["function"] == "DispatcherFunction"]
    # Contiguous phases: they add up to the end-to-end time.
    phases: list[tuple[str, float]] = [("register (POST round trip)", t_registered - t_register)]
    if steps:
        first = min(steps, key=lambda c: c["start"])
        if dispatch:
            d = min(dispatch, key=lambda c: c["start"])
            phases += [("start POST → dispatcher invoked (SQS)", d["start"] - t_registered),
                       ("dispatcher invoked → first workflow step", first["start"] - d["start"])]
        else:
            phases.append(("start POST → first workflow step", first["start"] - t_registered))
        for name in STEP_ORDER:
            durations = [c["end"] - c["start"] for c in steps if c["what"] == name]
            if durations:
                phases.append((f"step {name}" + (f" (x{len(durations)})" if len(durations) > 1 else ""),
                               sum(durations)))
        ordered = sorted(steps, key=lambda c: c["start"])
        gaps = sum(max(0.0, b["start"] - a["end"]) for a, b in itertools.pairwise(ordered))
        phases.append(("Step Functions between steps (sum of gaps)", gaps))
        phases.append(("last step end → client saw terminal state", t_done - ordered[-1]["end"]))
    figures["phases_s"] = {k: round(v, 3) for k, v in phases}
    figures["start_post_round_trip_s"] = round(t_started - t_registered, 3)
    figures["workflow_steps"] = [{"step": c["what"], "start_s": round(c["start"] - t_register, 3),
                                  "duration_s": round(c["end"] - c["start"], 3)}
                                 for c in sorted(steps, key=lambda c: c["start"])]

    rows: Rows = [
        ("objects (79 / 83)", f"{n} ({figures['types'].get('79', 0)} / {figures['types'].get('83', 0)})", ""),
        ("request body", round(len(body.encode()) / 1e6, 2),
         f"MB ({figures['sent_bytes'] / 1e6:.2f} MB sent gzipped)" if gzipped else "MB"),
        ("end to end (register → UTFØRT_OG_ETTERBEHANDLET)", round(total, 3), "s"),
        ("throughput", round(n / total, 1), "objects/s"),
        ("nvdbIds in status", len(nvdb_ids), ""),
    ]
    rows += [(f"  {k}", round(v, 3), "s") for k, v in phases]
    rows.append(("(start POST round trip, overlaps the phases above)", round(t_started - t_registered, 3), "s"))
    rows += [(f"  status: {k}", v, "s") for k, v in from_status.items()]
    rows.append(("stack startup (once, before the run)", bench.last_startup_s, "s"))
    return figures, rows
