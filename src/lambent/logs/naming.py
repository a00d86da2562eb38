"""Log group/stream names and ARNs as Lambda and CloudWatch Logs form them."""

from __future__ import annotations

import datetime as dt


def group_arn(region: str, account: str, group: str) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{group}"


def stream_arn(region: str, account: str, group: str, stream: str) -> str:
    return f"{group_arn(region, account, group)}:log-stream:{stream}"


def lambda_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def lambda_stream(started_at: float, version: str, environment_id: str) -> str:
    """`YYYY/MM/DD/[VERSION]<32 hex>`: one stream per execution environment, dated in UTC."""
    day = dt.datetime.fromtimestamp(started_at, tz=dt.UTC).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{environment_id}"
