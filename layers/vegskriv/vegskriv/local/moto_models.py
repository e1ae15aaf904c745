"""CloudFormation resource types moto's API has but its CloudFormation does not create.

moto 5.2 serves CloudWatch alarms and EventBridge Scheduler schedules, yet its CloudFormation has no
model for ``AWS::CloudWatch::Alarm`` or ``AWS::Scheduler::Schedule`` and would skip them. The two
models here let moto's CloudFormation create them like any other resource (intrinsics resolved by
moto): their properties are the parameters of ``PutMetricAlarm`` and ``CreateSchedule``, so each is
one call to moto's own API. :mod:`vegskriv.local.translate` imports this module before it asks
moto which types it can create.
"""

from __future__ import annotations

from typing import Any

import boto3
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel


class _Created:
    def __init__(self, physical_resource_id: str) -> None:
        self.physical_resource_id = physical_resource_id

    def is_created(self) -> bool:
        return True


def _through_api(cfn_type: str, name_key: str, service: str, method: str) -> type[CloudFormationModel]:
    """A model whose properties are the parameters of one call to moto's ``service.method``.
    moto finds models as *direct* subclasses of CloudFormationModel, hence a class per type."""

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
               **kwargs: Any) -> _Created:
        props = {**cloudformation_json["Properties"], name_key: resource_name}
        getattr(boto3.client(service, region_name=region_name), method)(**props)  # type: ignore[call-overload]
        return _Created(resource_name)

    return type(f"Local{cfn_type.rsplit('::', 1)[-1]}", (CloudFormationModel,), {
        "cloudformation_type": staticmethod(lambda: cfn_type),
        "cloudformation_name_type": staticmethod(lambda: name_key),
        "create_from_cloudformation_json": classmethod(create),
    })


LocalAlarm = _through_api("AWS::CloudWatch::Alarm", "AlarmName", "cloudwatch", "put_metric_alarm")
LocalSchedule = _through_api("AWS::Scheduler::Schedule", "Name", "scheduler", "create_schedule")


# moto caches the subclasses it knows on first use
for _cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    _cached.cache_clear()
