"""Run one Lambda handler the way the Lambda runtime would, for the deploy rehearsal.

Started by ``scripts/rehearse_deploy.py`` as ``python3.12 -I -S rehearsal_invoke.py`` with a job
(JSON) on stdin: ``{"sys_path": [...], "handler": "app.lambda_handler", "function_name": ...,
"memory": 1024, "timeout": 60, "events": [...]}``. Only the standard library is importable until
``sys_path`` (function code, layer, boto3) is added, so a dependency missing from the layer fails
here exactly as it would on AWS. Prints ``{"results": [...]}`` or ``{"error": ..., "traceback": ...}``
as the last line of stdout; the handlers' own logs go to stderr.
"""

import importlib
import json
import sys
import time
import traceback
import uuid


class Context:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(self, name: str, memory: int, timeout: int) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:eu-north-1:123456789012:function:{name}"
        self.memory_limit_in_mb = memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "$LATEST"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> int:
    job = json.load(sys.stdin)
    out = sys.stdout
    sys.stdout = sys.stderr  # Powertools logs to stdout; keep stdout for the answer
    sys.path[:0] = job["sys_path"]
    try:
        module_name, _, attribute = job["handler"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        results = []
        for event in job["events"]:
            context = Context(job["function_name"], job["memory"], job["timeout"])
            results.append(handler(event, context))
    except BaseException as exc:
        out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}) + "\n")
        return 1
    out.write(json.dumps({"results": results}, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
