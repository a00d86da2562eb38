"""botocore's service models, loaded once: the source of truth for routes, shapes and errors."""

from __future__ import annotations

from dataclasses import dataclass

import botocore.session
from botocore.model import OperationModel, ServiceModel

from lambent.api import constraints

SERVICES: dict[str, str] = {
    "lambda": "2015-03-31",
    "iam": "2010-05-08",
    "sts": "2011-06-15",
    "logs": "2014-03-28",
    "s3": "2006-03-01",
    "sqs": "2012-11-05",
    "events": "2015-10-07",
    "sns": "2010-03-31",
    "scheduler": "2021-06-30",
    "kinesis": "2013-12-02",
    "secretsmanager": "2017-10-17",
}


@dataclass(frozen=True)
class Models:
    """The service models Lambent speaks, keyed by signing name."""

    services: dict[str, ServiceModel]

    @classmethod
    def load(cls) -> Models:
        loader = botocore.session.get_session().get_component("data_loader")
        loaded: dict[str, ServiceModel] = {}
        for name, version in SERVICES.items():
            data = loader.load_service_model(name, "service-2", api_version=version)
            loaded[name] = ServiceModel(constraints.live(name, data), service_name=name)
        return cls(loaded)

    def service(self, name: str) -> ServiceModel:
        return self.services[name]

    def operation(self, service: str, name: str) -> OperationModel:
        return self.services[service].operation_model(name)
