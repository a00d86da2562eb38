"""provided.al2023: the function's own executable `bootstrap` is the runtime."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fixtures.functions import provided_zip
from tests.fixtures.runtime_process import running

# A complete custom runtime in shell, the way AWS's custom-runtime tutorial writes one.
BOOTSTRAP = """#!/bin/bash
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
echo "init in $(pwd) handler=${_HANDLER:-}"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  if [ "$EVENT" = '"fail"' ]; then
    curl -sS -X POST -H "Lambda-Runtime-Function-Error-Type: Custom.Failure" \\
      -d '{"errorMessage":"asked to fail","errorType":"Custom.Failure"}' \\
      "$API/invocation/$ID/error" >/dev/null
  else
    curl -sS -X POST -d "{\\"echo\\":$EVENT,\\"fn\\":\\"$AWS_LAMBDA_FUNCTION_NAME\\"}" \\
      "$API/invocation/$ID/response" >/dev/null
  fi
done
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="the shell runtime needs curl")
def test_custom_bootstrap_runs_as_the_runtime(tmp_path: Path) -> None:
    code = provided_zip(BOOTSTRAP, files={"data/readme.txt": "packaged with the function"})
    with running("provided.al2023", code, tmp_path, handler="function.handler") as (h, p):
        ok = h.invoke({"k": [1, 2]})
        failed = h.invoke("fail")
        out = p.output()
        assert (p.task_dir / "data" / "readme.txt").read_text() == "packaged with the function"
    assert ok.json() == {"echo": {"k": [1, 2]}, "fn": "fn"}
    assert failed.kind == "error"
    assert failed.error_type == "Custom.Failure"
    assert failed.json() == {"errorMessage": "asked to fail", "errorType": "Custom.Failure"}
    assert out.startswith(f"init in {p.task_dir} handler=function.handler\n")
