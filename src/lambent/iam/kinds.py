"""Store document kinds for IAM entities (account = the owning account id).

- iam_role: key RoleName, doc = the IAM `Role` output shape (others read it: the Lambda
  control plane checks execution roles by this kind and key).
- iam_role_attachment: key "ROLE\\nPOLICY_ARN", parent RoleName, doc {PolicyName, PolicyArn}.
- iam_role_policy: key "ROLE\\nPOLICY_NAME", parent RoleName, doc {PolicyName, PolicyDocument}.
- iam_policy: key PolicyName, doc {"policy": Policy shape, "document": raw JSON text}.
- iam_user: key UserName, doc = the IAM `User` output shape.
- iam_user_attachment / iam_user_policy: as for roles, parent UserName.
"""

from __future__ import annotations

from lambent.store.interface import Doc, Store

ROLE = "iam_role"
ROLE_ATTACHMENT = "iam_role_attachment"
ROLE_POLICY = "iam_role_policy"
POLICY = "iam_policy"
USER = "iam_user"
USER_ATTACHMENT = "iam_user_attachment"
USER_POLICY = "iam_user_policy"


def child_key(parent: str, name: str) -> str:
    return f"{parent}\n{name}"


async def find_named(store: Store, kind: str, account: str, name: str) -> Doc | None:
    """IAM names are case-insensitive: an exact hit first, then a case-folded match."""
    doc = await store.get(kind, account, name)
    if doc is not None:
        return doc
    folded = name.casefold()
    for row in await store.list(kind, account):
        if row.key.casefold() == folded:
            return row.doc
    return None
