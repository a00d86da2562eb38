"""EventBridge ARNs and the names requests give (a name or an ARN), pure."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BUS = "default"


@dataclass(frozen=True)
class BusRef:
    account: str
    name: str


def bus_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{name}"


def rule_arn(region: str, account: str, bus: str, rule: str) -> str:
    """The default bus's rules have no bus in their ARN, a custom bus's do (as AWS)."""
    if bus == DEFAULT_BUS:
        return f"arn:aws:events:{region}:{account}:rule/{rule}"
    return f"arn:aws:events:{region}:{account}:rule/{bus}/{rule}"


def parse_bus(given: str | None, account: str) -> BusRef:
    """`EventBusName` is a name or an event bus ARN (possibly another account's)."""
    if not given:
        return BusRef(account, DEFAULT_BUS)
    if given.startswith("arn:"):
        parts = given.split(":", 5)
        if len(parts) == 6 and parts[2] == "events" and parts[5].startswith("event-bus/"):
            return BusRef(parts[4] or account, parts[5][len("event-bus/") :])
    return BusRef(account, given)


def arn_parts(arn: str) -> tuple[str, str, str, str] | None:
    """(service, region, account, resource) of an ARN, or None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[2], parts[3], parts[4], parts[5]
