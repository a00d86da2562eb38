"""Identifiers and ARNs in IAM's own formats.

Unique ids are a four-letter type prefix plus 17 characters, as AWS issues them
(AROA roles, AIDA users, ANPA policies, AKIA long-term keys, ASIA session keys).
"""

from __future__ import annotations

from dataclasses import dataclass

from lambent.auth.credentials import new_unique_id
from lambent.errors import IamInvalidInput

ROLE_ID_PREFIX = "AROA"
USER_ID_PREFIX = "AIDA"
POLICY_ID_PREFIX = "ANPA"
AWS_ACCOUNT = "aws"


def role_id() -> str:
    return new_unique_id(ROLE_ID_PREFIX)


def user_id() -> str:
    return new_unique_id(USER_ID_PREFIX)


def policy_id() -> str:
    return new_unique_id(POLICY_ID_PREFIX)


def iam_arn(account: str, resource: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:{resource}{path}{name}"


def assumed_role_arn(account: str, role_name: str, session: str) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}"


def root_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


@dataclass(frozen=True)
class IamArn:
    """An `arn:aws:iam::ACCOUNT:TYPE/PATH/NAME` taken apart."""

    account: str
    resource_type: str
    path: str
    name: str

    @property
    def arn(self) -> str:
        return iam_arn(self.account, self.resource_type + "/", self.path[1:], self.name)


def parse_iam_arn(arn: str, resource_type: str) -> IamArn:
    """Split an IAM ARN; InvalidInput (as AWS answers) when it is not one of `resource_type`."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5]:
        raise IamInvalidInput(f"ARN {arn} is not valid.")
    account, resource = parts[4], parts[5]
    kind, _, rest = resource.partition("/")
    if kind != resource_type or not rest:
        raise IamInvalidInput(f"ARN {arn} is not valid.")
    path, _, name = rest.rpartition("/")
    return IamArn(account, kind, f"/{path}/" if path else "/", name)


def user_name_of(principal_arn: str) -> str | None:
    """The IAM user a principal ARN names, or None (root, role sessions, services)."""
    prefix, sep, rest = principal_arn.partition(":user/")
    if not sep or not prefix.startswith("arn:aws:iam::"):
        return None
    return rest.rsplit("/", 1)[-1]
