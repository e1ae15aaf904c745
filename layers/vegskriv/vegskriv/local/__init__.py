"""The local runtime: moto in-process, the resources of template.yaml, handlers in-process.

The resources come from the template itself: :mod:`.translate` runs SAM's translator and moto's
CloudFormation creates the result (:mod:`.stack`). What remains hand-written is what moto cannot do:

* :mod:`.runtime` — Lambda invokes run the Python handler named by CodeUri/Handler in this
  process (moto would need Docker), one event per function at a time;
* :mod:`.apigw` — the REST API: moto cannot build SAM's OpenAPI-bodied API, so HTTP requests
  become API Gateway proxy events here, with the TOKEN authorizer;
* :mod:`.sqs_poller` — moto's SQS → Lambda delivery takes one message per call and ignores
  ``batchItemFailures``; its mapping is created disabled and a poller delivers instead;
* :mod:`.events` — moto's Step Functions emits no execution status changes and its EventBridge
  does not call Lambda targets; two hooks make the janitor's rule fire;
* :mod:`.persistence` — ``--data``: tables outlive the process, executions do not.

Lambda code never imports this package (it needs the ``local`` extra: moto, PyYAML, samtranslator).
"""
