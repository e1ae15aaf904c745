"""Reads for the system status (Kontrollpanel "Systemstatus"): queue depths, running executions,
locks. Every figure is one cheap call; none reads changesets."""

from __future__ import annotations

import time
from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import BotoCoreError, ClientError

from vegskriv import aws
from vegskriv.settings import get_settings

MAX_EXECUTIONS = 1000  # counting stops here ("1000+"): the page must stay quick


def queue(url: str) -> dict[str, Any]:
    """SQS's approximate counts: waiting, being processed, delayed."""
    try:
        attrs = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]
    except (ClientError, BotoCoreError) as exc:
        return {"feil": str(exc)}
    return {"synlige": int(attrs.get("ApproximateNumberOfMessages", 0)),
            "underBehandling": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "forsinket": int(attrs.get("ApproximateNumberOfMessagesDelayed", 0))}


def running_executions(state_machine_arn: str) -> dict[str, Any]:
    """Executions RUNNING (a changeset waiting on a lock holds one too, parked on its task token)."""
    count = 0
    try:
        pages = aws.client("stepfunctions").get_paginator("list_executions").paginate(
            stateMachineArn=state_machine_arn, statusFilter="RUNNING", PaginationConfig={"PageSize": 100})
        for page in pages:
            count += len(page["executions"])
            if count >= MAX_EXECUTIONS:
                return {"antall": count, "flere": True}
    except (ClientError, BotoCoreError) as exc:
        return {"feil": str(exc)}
    return {"antall": count, "flere": False}


def locks() -> dict[str, int]:
    """Live locks, and the changesets registered as waiting on one of them."""
    kwargs: dict[str, Any] = {"FilterExpression": Attr("sk").eq("META") & Attr("utloper").gt(int(time.time())),
                              "ProjectionExpression": "ventende"}
    table = aws.table(get_settings().locks_table)
    count, waiting = 0, set[str]()
    while True:
        page = table.scan(**kwargs)
        count += len(page["Items"])
        for item in page["Items"]:
            waiting.update(item.get("ventende") or [])
        if "LastEvaluatedKey" not in page:
            return {"låser": count, "ventendeEndringssett": len(waiting)}
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
