"""One Logger, Tracer and Metrics for every function (Powertools), configured by POWERTOOLS_* env vars."""

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

if "AWS_LAMBDA_FUNCTION_NAME" not in os.environ or os.environ.get("VEGSKRIV_LOCAL"):
    # Outside Lambda (local stack, tests) there is no X-Ray daemon and no metrics sink.
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "vegskriv")
logger = Logger(service=SERVICE)
Handler = TypeVar("Handler", bound=Callable[..., Any])


@functools.cache
def tracer() -> Tracer:
    # What the functions call: AWS through botocore, and HTTP (JWKS, push delivery) through http.client.
    # By default the X-Ray SDK also imports and patches sqlite3 and looks for a dozen other libraries.
    return Tracer(service=SERVICE, patch_modules=("botocore", "httplib"))


def traced(handler: Handler) -> Handler:
    """``Tracer.capture_lambda_handler`` when tracing is on (on AWS: made at init, as before), the
    handler itself when it is off (local stack, tests, sam local): making a Tracer imports the X-Ray
    SDK and patches botocore (~0.15 s) even when tracing is off."""
    if Tracer._is_tracer_disabled():  # Powertools' own rule: POWERTOOLS_TRACE_DISABLED, outside Lambda
        return handler
    return tracer().capture_lambda_handler(handler)  # type: ignore[return-value]


# The defaults are template.yaml's, so an import before the environment is set emits the same.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "vegskriv"), service=SERVICE)

# Metrics holds one shared set; the local stack runs handlers in threads.
_one_at_a_time = threading.Lock()


def measure(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
    """Emit one metric now (one EMF line) with its own dimensions beside ``service``, so a
    dimension of one metric never sticks to another and nothing waits for the end of the handler."""
    with _one_at_a_time:
        for key, dimension in dimensions.items():
            metrics.add_dimension(name=key, value=dimension)
        metrics.add_metric(name=name, unit=unit, value=value)
        metrics.flush_metrics()
        metrics.clear_metrics()  # flush keeps them when metrics are disabled: they would pile up
