"""Invoking another account's function by its ARN: its resource-based policy decides.

AWS answers a caller whom no statement of the function's policy allows with
AccessDeniedException, whether or not the function exists (another account's functions
are not the caller's to discover). A statement allows when its action matches
lambda:InvokeFunction, its principal names the caller (its account, its ARN, the
account's root, or `*`) and its conditions hold; the caller's own identity-based
policies are not evaluated (as elsewhere in Lambent). The policy of the qualifier the ARN
names applies, and so does the function's own.
"""

from __future__ import annotations

from lambent.errors import AccessDenied
from lambent.function_urls import access
from lambent.functions import arns
from lambent.functions.catalog import StoreCatalog
from lambent.functions.repository import POLICY

ACTION = "lambda:invokefunction"
# Keys a direct invoke has: none of a function URL's.
_CONTEXT = {"lambda:invokedviafunctionurl": "false"}


def denied(caller_arn: str, resource: str) -> AccessDenied:
    return AccessDenied(
        f"User: {caller_arn} is not authorized to perform: lambda:InvokeFunction on resource: "
        f"{resource} because no resource-based policy allows the lambda:InvokeFunction action",
        front_door=True,
    )


async def owner(
    catalog: StoreCatalog,
    caller: access.Principal,
    function: str,
    qualifier: str | None,
    region: str,
) -> str:
    """The account whose function `function` names, once the caller may invoke it."""
    if ":" not in function:
        return caller.account_id  # a plain name (with or without qualifier): the caller's
    ref = arns.parse_function(function, qualifier)
    if ref.account is None or ref.account == caller.account_id:
        return caller.account_id
    where = ref.region or region
    resource = arns.function_arn(where, ref.account, ref.name, ref.qualifier)
    fn = await catalog.function_doc(ref.account, ref.name)
    if fn is None or fn["region"] != where:
        raise denied(caller.arn, resource)
    keys = ["", ref.qualifier] if ref.qualifier else [""]
    for key in keys:
        policy = await catalog.repo.child(POLICY, ref.account, ref.name, key)
        if access.grants(policy, caller, ACTION, _CONTEXT):
            return ref.account
    raise denied(caller.arn, resource)
