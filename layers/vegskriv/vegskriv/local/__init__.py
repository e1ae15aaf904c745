"""The local runtime: moto in-process, the resources of template.yaml, handlers in-process.

The resources come from the template itself: :mod:`.translate` runs SAM's translator (Globals,
events as resources) and moto's CloudFormation creates the result (:mod:`.stack`, intrinsics
resolved by moto); :mod:`.template` reads back what was created. What remains hand-written is what
moto cannot do:

* :mod:`.moto_models` — moto's CloudFormation has no model for alarms and Scheduler schedules
  (its APIs have them); two small models create them through those APIs;
* :mod:`.moto_patches` — moto checks a ConditionExpression and writes in separate steps, and its
  SQS long poll holds no lock: locks around both keep concurrent in-process workers honest;
* :mod:`.runtime` — Lambda invokes run the Python handler named by CodeUri/Handler in this
  process (moto would need Docker), one event per function at a time;
* :mod:`.apigw` — the REST API: moto cannot build SAM's OpenAPI-bodied API, so HTTP requests
  become API Gateway proxy events here, with the TOKEN authorizer (routes read from SAM's body);
* :mod:`.sqs_poller` — moto's SQS → Lambda delivery takes one message per call and ignores
  ``batchItemFailures``; its mapping is created disabled and a poller delivers instead;
* :mod:`.events` — moto's Step Functions emits no execution status changes and its EventBridge
  does not call Lambda targets; two hooks make the janitor's rule fire;
* :mod:`.schedules` — moto stores Scheduler schedules but never fires them;
* :mod:`.persistence` — ``--data``: tables outlive the process, executions do not.

Lambda code never imports this package (it needs the ``local`` extra: moto, PyYAML, samtranslator).
"""
