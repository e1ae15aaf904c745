"""SQS → Lambda event source mappings, run locally by one poller thread per mapping.

moto's own mapping invokes synchronously, one message per call, and ignores
``batchItemFailures``; this poller behaves like the Lambda service instead: it long-polls the
queue, invokes the function with a batch in the real SQS event shape, deletes the records that
succeeded and leaves the failed ones to become visible again after the visibility timeout (the
queue's redrive policy then moves them to the dead-letter queue after ``maxReceiveCount``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from vegskriv.local.runtime import FunctionError, FunctionRuntime
from vegskriv.local.template import SqsEventSpec

log = logging.getLogger("vegskriv_local.sqs")


def sqs_event(records: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda sends for a batch of messages received from ``queue_arn``."""
    out = []
    for message in records:
        attributes = message.get("Attributes") or {}
        message_attributes = {}
        for name, attr in (message.get("MessageAttributes") or {}).items():
            message_attributes[name] = {
                "stringValue": attr.get("StringValue"),
                "binaryValue": attr.get("BinaryValue"),
                "stringListValues": attr.get("StringListValues", []),
                "binaryListValues": attr.get("BinaryListValues", []),
                "dataType": attr.get("DataType"),
            }
        out.append({
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": {
                "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attributes.get("SentTimestamp", ""),
                "SenderId": attributes.get("SenderId", ""),
                "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", ""),
                **{k: v for k, v in attributes.items()
                   if k in ("MessageGroupId", "MessageDeduplicationId", "SequenceNumber",
                            "AWSTraceHeader")},
            },
            "messageAttributes": message_attributes,
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        })
    return {"Records": out}


class SqsPoller:
    def __init__(self, source: SqsEventSpec, queue_url: str, runtime: FunctionRuntime, sqs: Any,
                 region: str, wait_seconds: int = 1) -> None:
        self.source = source
        self.queue_url = queue_url
        self.runtime = runtime
        self.sqs = sqs
        self.region = region
        self.wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, daemon=True,
            name=f"sqs-{source.function.logical_id}-{source.event_name}")
        self.batches = 0  # observability for tests

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                if self._stop.is_set():
                    break
                log.exception("SQS poller %s failed; retrying", self._thread.name)
                self._stop.wait(1)

    def poll_once(self) -> int:
        """Receive one batch and process it; returns the number of messages received."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, self.source.batch_size),
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages") or []
        if not messages or self._stop.is_set():
            return len(messages)
        self.batches += 1
        event = sqs_event(messages, self.source.queue_arn, self.region)
        failed: set[str] = set()
        try:
            result = self.runtime.invoke(self.source.function, event)
        except FunctionError as err:
            log.warning("%s failed for a batch of %d: %s", self.source.function.logical_id,
                        len(messages), err)
            return len(messages)  # the whole batch becomes visible again
        if self.source.report_batch_item_failures and isinstance(result, dict):
            items = result.get("batchItemFailures") or []
            failed = {str(item.get("itemIdentifier")) for item in items if isinstance(item, dict)}
            known = {m["MessageId"] for m in messages}
            if failed - known:
                # Lambda treats an unknown or empty itemIdentifier as a failure of the whole batch.
                failed = known
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start:start + 10]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)])
        if failed:
            log.info("%s: %d of %d records failed and will be retried",
                     self.source.function.logical_id, len(failed), len(messages))
        return len(messages)
