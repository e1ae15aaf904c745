"""Run Lambda handlers in-process: load ``<CodeUri>/<module>.py`` and call the handler.

Used by the moto Lambda patch (Step Functions tasks, boto3 ``lambda.invoke``), the SQS pollers
and the local API Gateway — all three go through :meth:`FunctionRuntime.invoke`.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from vegskriv.local.template import FunctionSpec

log = logging.getLogger("vegskriv_local")


@dataclass
class FakeLambdaContext:
    """The attributes of the Lambda context object that handlers (and Powertools) read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    client_context: Any = None
    identity: Any = None
    _started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


class FunctionError(Exception):
    """A handler raised: carries the Lambda error payload (errorMessage/errorType/stackTrace)."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


def error_payload(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": "",
        "stackTrace": [line.rstrip("\n") for line in traceback.format_tb(exc.__traceback__)],
    }


class FunctionRuntime:
    """Loads and invokes the handlers of the functions a template declares."""

    def __init__(self, functions: dict[str, FunctionSpec]) -> None:
        self.functions = functions
        self._by_name: dict[str, FunctionSpec] = {}
        for spec in functions.values():
            self._by_name[spec.name] = spec
            self._by_name[spec.arn] = spec
            self._by_name[spec.logical_id] = spec
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.RLock()
        # One Lambda instance per function: it takes one event at a time. Handlers keep per-event
        # state in module globals (Powertools' resolver holds the current event), so two events in
        # one handler at once would mix up their callers. Re-entrant, so a handler that invokes its
        # own function synchronously waits for nothing; other functions have locks of their own.
        self._instances = {spec.logical_id: threading.RLock() for spec in functions.values()}

    def find(self, function_name: str) -> FunctionSpec | None:
        """Look a function up by name, ARN (with or without qualifier) or logical id."""
        if function_name in self._by_name:
            return self._by_name[function_name]
        match = re.match(r"arn:aws[a-z-]*:lambda:[^:]+:\d+:function:([^:]+)(?::.+)?$", function_name)
        if match:
            return self._by_name.get(match.group(1))
        return self._by_name.get(function_name.split(":")[0])

    def module(self, spec: FunctionSpec) -> ModuleType:
        with self._lock:
            if spec.logical_id not in self._modules:
                safe = re.sub(r"\W", "_", spec.code_dir.name)
                module_name = f"vegskriv_fn_{safe}"
                path = spec.module_file
                if not path.is_file():
                    raise FileNotFoundError(f"{spec.logical_id}: handler module {path} does not exist")
                import_spec = importlib.util.spec_from_file_location(module_name, path)
                assert import_spec is not None and import_spec.loader is not None
                module = importlib.util.module_from_spec(import_spec)
                import_spec.loader.exec_module(module)
                self._modules[spec.logical_id] = module
            return self._modules[spec.logical_id]

    def handler(self, spec: FunctionSpec) -> Any:
        module = self.module(spec)
        handler = getattr(module, spec.handler_name, None)
        if handler is None:
            raise AttributeError(f"Handler '{spec.handler_name}' missing on module '{spec.module_file}'")
        return handler

    def context(self, spec: FunctionSpec) -> FakeLambdaContext:
        return FakeLambdaContext(function_name=spec.name, invoked_function_arn=spec.arn,
                                 memory_limit_in_mb=spec.memory_size, timeout_seconds=spec.timeout)

    def invoke(self, spec: FunctionSpec, event: Any) -> Any:
        """Call the handler; a raised exception becomes :class:`FunctionError`."""
        try:
            handler = self.handler(spec)
            with self._instances[spec.logical_id]:
                return handler(event, self.context(spec))
        except Exception as exc:
            log.debug("%s raised %r", spec.logical_id, exc, exc_info=True)
            raise FunctionError(error_payload(exc)) from exc
