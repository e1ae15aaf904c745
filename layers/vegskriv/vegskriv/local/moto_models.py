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


class LocalAlarm(CloudFormationModel):
    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
            **kwargs: Any) -> _Created:
        props = {**cloudformation_json["Properties"], "AlarmName": resource_name}
        boto3.client("cloudwatch", region_name=region_name).put_metric_alarm(**props)
        return _Created(resource_name)


class LocalSchedule(CloudFormationModel):
    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Scheduler::Schedule"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str,
            **kwargs: Any) -> _Created:
        props = {**cloudformation_json["Properties"], "Name": resource_name}
        boto3.client("scheduler", region_name=region_name).create_schedule(**props)
        return _Created(resource_name)


# moto caches the subclasses it knows on first use
for _cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
    _cached.cache_clear()
