#!/usr/bin/env bash
# Diagnostics for moto's Lambda suite (docs/SPECIFICATION.md, "Conformance"): runs a copy of
# the suite that ../shared/conformance/moto-suite.sh has cached, changed in two ways that
# moto's own assertions do not depend on, to see what each failing test would find next.
#
#   scripts/moto-diagnostic.sh ENDPOINT [PYTEST ARGS...]
#
#   * after each test (outside test classes), every function in us-west-2 and us-east-1 is
#     deleted, so a test that fails before its own clean-up does not make later tests that
#     reuse its fixed names fail;
#   * with MOTO_DIAG_RUNTIME=python3.13, moto's functions use that runtime instead of
#     python3.14 (which this host may lack), and every CreateFunction/Update* waits until
#     the function is Active and Successful, as an AWS client must before invoking.
#
# The official count is moto-suite.sh's; these runs only explain it. MOTO_SKIP_DOCKER=1
# skips the tests that really invoke functions, as in moto-suite.sh.
set -euo pipefail
endpoint=${1:?usage: moto-diagnostic.sh ENDPOINT [PYTEST ARGS...]}
shift
version=${MOTO_VERSION:-5.2.5}
cache=${LAMBENT_CONFORMANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambent-conformance}
src=$cache/moto-$version/src
venv=$cache/moto-$version/venv
[[ -d $src/tests/test_awslambda ]] || { echo "run moto-suite.sh once first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src/." "$work/"
suite=$work/tests/test_awslambda
cat >"$suite/conftest.py" <<'EOF'
import os

import boto3
import pytest


@pytest.fixture(autouse=True)
def _delete_functions_after_each_test(request):
    yield
    if request.cls is not None:  # a test class shares the functions its setup_class made
        return
    for region in ("us-west-2", "us-east-1"):
        client = boto3.client(
            "lambda", region_name=region, endpoint_url=os.environ["TEST_SERVER_MODE_ENDPOINT"]
        )
        for page in client.get_paginator("list_functions").paginate():
            for fn in page["Functions"]:
                try:
                    client.delete_function(FunctionName=fn["FunctionName"])
                except Exception:
                    pass
EOF
if [[ -n ${MOTO_DIAG_RUNTIME:-} ]]; then
  sed -i "s/^PYTHON_VERSION = \"python3.14\"/PYTHON_VERSION = \"$MOTO_DIAG_RUNTIME\"/" \
    "$suite/utilities.py"
  cat >>"$suite/__init__.py" <<'EOF'

import boto3 as _boto3

_client = _boto3.client
_WAITERS = {
    "CreateFunction": "function_active_v2",
    "UpdateFunctionCode": "function_updated_v2",
    "UpdateFunctionConfiguration": "function_updated_v2",
}


def _waiting_client(*args, **kwargs):
    client = _client(*args, **kwargs)
    if (args[:1] or (kwargs.get("service_name"),))[0] != "lambda":
        return client

    def settle(http_response, parsed, model, **_):
        waiter = _WAITERS.get(model.name)
        if waiter and http_response.status_code < 300:
            client.get_waiter(waiter).wait(
                FunctionName=parsed["FunctionArn"], WaiterConfig={"Delay": 1, "MaxAttempts": 120}
            )

    client.meta.events.register("after-call.lambda", settle)
    return client


_boto3.client = _waiting_client
EOF
fi
cd "$work"
export TEST_SERVER_MODE=true TEST_SERVER_MODE_ENDPOINT=$endpoint
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-testing} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testing}
export AWS_DEFAULT_REGION=us-east-1 MOTO_CALL_RESET_API=${MOTO_CALL_RESET_API:-false}
[[ ${MOTO_SKIP_DOCKER:-0} == 1 ]] && export TESTS_SKIP_REQUIRES_DOCKER=true
"$venv/bin/python" -m pytest -p no:cacheprovider -q --timeout=120 tests/test_awslambda "$@"
