"""One Logger, Tracer and Metrics for every function (Powertools), configured by POWERTOOLS_* env vars."""

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

if "AWS_LAMBDA_FUNCTION_NAME" not in os.environ or os.environ.get("VEGSKRIV_LOCAL"):
    # Outside Lambda (local stack, tests) there is no X-Ray daemon and no metrics sink.
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "vegskriv"))
tracer = Tracer(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "vegskriv"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Vegskriv"))
