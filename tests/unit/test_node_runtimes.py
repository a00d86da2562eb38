"""Each Node runtime as a real process: its own Node major, the AWS SDK for JavaScript v3
it provides, ES module imports searched in NODE_PATH, and what differs between majors
(AWS's disabled experimental features, Node 24's refusal of callback handlers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.functions import node_zip
from tests.fixtures.runtime_process import running

NODES = {"nodejs20.x": "20", "nodejs22.x": "22", "nodejs24.x": "24"}

VERSION_APP = """
export const handler = async () => ({
  version: process.version,
  env: process.env.AWS_EXECUTION_ENV,
});
"""

# The SDK from the runtime, both ways a handler loads it, with nothing bundled in the zip.
SDK_ESM = """
import { LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { STSClient } from "@aws-sdk/client-sts";
import * as s3 from "@aws-sdk/client-s3";
export const handler = async () => ({
  lambda: typeof LambdaClient, list: typeof ListFunctionsCommand,
  sts: typeof STSClient, s3: typeof s3.S3Client,
});
"""
SDK_CJS = """
const { LambdaClient, ListFunctionsCommand } = require("@aws-sdk/client-lambda");
const { STSClient } = require("@aws-sdk/client-sts");
const s3 = require("@aws-sdk/client-s3");
exports.handler = async () => ({
  lambda: typeof LambdaClient, list: typeof ListFunctionsCommand,
  sts: typeof STSClient, s3: typeof s3.S3Client,
});
"""
SDK_TYPES = {"lambda": "function", "list": "function", "sts": "function", "s3": "function"}


def _invoke(runtime: str, code: bytes, tmp_path: Path, **kw: object) -> tuple[object, str]:
    with running(runtime, code, tmp_path, handler="index.handler", **kw) as (h, p):
        result = h.invoke({})
        out = p.output()
    assert result.kind == "response", (result.body, out)
    return result.json(), out


@pytest.mark.parametrize("runtime", list(NODES))
def test_each_runtime_reports_its_own_major(runtime: str, tmp_path: Path) -> None:
    """Regression (issue 8 §1.7): nodejs22.x reported v20."""
    body, _ = _invoke(runtime, node_zip(VERSION_APP, filename="index.mjs"), tmp_path)
    assert isinstance(body, dict)
    assert body["version"].startswith(f"v{NODES[runtime]}.")
    assert body["env"] == f"AWS_Lambda_{runtime}"


@pytest.mark.parametrize("runtime", list(NODES))
@pytest.mark.parametrize(("filename", "source"), [("index.mjs", SDK_ESM), ("index.js", SDK_CJS)])
def test_the_sdk_is_provided(runtime: str, filename: str, source: str, tmp_path: Path) -> None:
    """`import` and `require` of @aws-sdk/client-* work with no SDK in the function's zip,
    as on AWS's nodejs18.x and later."""
    body, _ = _invoke(runtime, node_zip(source, filename=filename), tmp_path)
    assert body == SDK_TYPES


LOCAL_PACKAGE = {
    "vendor/node_modules/greeter/package.json": json.dumps(
        {"name": "greeter", "type": "module", "exports": "./main.js"}
    ),
    "vendor/node_modules/greeter/main.js": "export const greet = (n) => `hello ${n}`;\n",
}


@pytest.mark.parametrize("runtime", list(NODES))
def test_es_module_imports_search_the_functions_node_path(runtime: str, tmp_path: Path) -> None:
    """An ES module import of a package outside the handler's node_modules chain is found
    through NODE_PATH (the function's own value here, as a layer's is through Lambda's)."""
    source = "import { greet } from 'greeter';\nexport const handler = async () => greet('x');\n"
    code = node_zip(source, filename="index.mjs", files=LOCAL_PACKAGE)
    variables = {"NODE_PATH": "/var/task/vendor/node_modules"}
    body, _ = _invoke(runtime, code, tmp_path, variables=variables)
    assert body == "hello x"


def test_a_missing_package_is_still_reported_as_node_reports_it(tmp_path: Path) -> None:
    source = "import 'no-such-package';\nexport const handler = async () => 1;\n"
    with running(
        "nodejs22.x", node_zip(source, filename="index.mjs"), tmp_path, handler="index.handler"
    ) as (h, p):
        error = h.wait_init_error()
        assert p.wait() == 129
    assert "Cannot find package 'no-such-package'" in error.json()["errorMessage"]


CALLBACK = "exports.handler = (event, context, callback) => callback(null, 'called back');\n"


@pytest.mark.parametrize("runtime", ["nodejs20.x", "nodejs22.x"])
def test_callback_handlers_run_before_node_24(runtime: str, tmp_path: Path) -> None:
    body, _ = _invoke(runtime, node_zip(CALLBACK), tmp_path)
    assert body == "called back"


def test_node_24_refuses_callback_handlers_at_init(tmp_path: Path) -> None:
    with running("nodejs24.x", node_zip(CALLBACK), tmp_path, handler="index.handler") as (h, p):
        error = h.wait_init_error()
        assert p.wait() == 129
    doc = error.json()
    assert error.error_type == "Runtime.CallbackHandlerDeprecated"
    assert doc["errorType"] == "Runtime.CallbackHandlerDeprecated"
    assert doc["errorMessage"].startswith(
        "ERROR: AWS Lambda has removed support for callback-based function handlers "
        "starting with Node.js 24."
    )


def test_node_24_takes_async_and_streaming_handlers(tmp_path: Path) -> None:
    source = (
        "exports.handler = awslambda.streamifyResponse(async (event, stream, context) => {"
        " stream.write('streamed'); stream.end(); });\n"
    )
    with running("nodejs24.x", node_zip(source), tmp_path, handler="index.handler") as (h, _):
        assert h.invoke({}).body == b"streamed"


# require() of an ES module: upstream Node 20.19+/22.12+ allow it, AWS turns it off on its
# nodejs20.x and nodejs22.x (and a function turns it back on through NODE_OPTIONS).
REQUIRE_ESM = {"esm.mjs": "export const value = 'esm';\n"}
REQUIRE_APP = """
exports.handler = async () => {
  try { return require('./esm.mjs').value; } catch (err) { return err.code; }
};
"""


@pytest.mark.parametrize(
    ("runtime", "variables", "expected"),
    [
        ("nodejs20.x", {}, "ERR_REQUIRE_ESM"),
        ("nodejs22.x", {}, "ERR_REQUIRE_ESM"),
        ("nodejs22.x", {"NODE_OPTIONS": "--experimental-require-module"}, "esm"),
        ("nodejs24.x", {}, "esm"),
    ],
)
def test_require_of_es_modules_is_as_aws_configures_it(
    runtime: str, variables: dict[str, str], expected: str, tmp_path: Path
) -> None:
    code = node_zip(REQUIRE_APP, files=REQUIRE_ESM)
    body, _ = _invoke(runtime, code, tmp_path, variables=variables)
    assert body == expected
