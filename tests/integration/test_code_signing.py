"""Code signing configs through real boto3 and the `lambent` CLI (issue 8 §2,
AWS-BEHAVIOURS §10): the whole API with AWS's answers, and Warn/Enforce applied to
CreateFunction and UpdateFunctionCode with signatures made by `lambent sign` and checked
against public keys registered with `lambent signing-profiles add`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tests.fixtures.functions import python_zip
from tests.support import REPO, ServerProcess, lambda_role, start_server

CODE = "def handler(event, context):\n    return {'signed': True}\n"
UNKNOWN = "arn:aws:lambda:us-east-1:{account}:code-signing-config:csc-0123456789abcdefg"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("signing"),
        extra_args=["--log-format", "json"],
        separate_stderr=True,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def lam(srv: ServerProcess) -> Any:
    return srv.client("lambda")


@pytest.fixture(scope="module")
def role(srv: ServerProcess) -> str:
    return lambda_role(srv, "signing")


@pytest.fixture(scope="module")
def account(role: str) -> str:
    return role.split(":")[4]


def lambent(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "lambent", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip()


def write_key(path: Path, key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def register(srv: ServerProcess, tmp: Path, name: str, key: Any) -> tuple[str, Path]:
    """(profile version ARN, private key file) of a profile the operator registered."""
    private = write_key(tmp / f"{name}.key", key)
    public = tmp / f"{name}.pub"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    arn = lambent(
        "signing-profiles",
        "add",
        name,
        "--public-key",
        str(public),
        "--data-dir",
        str(srv.data_dir),
        *srv.store_args(),
    )
    return arn, private


def signed(tmp: Path, key: Path, arn: str, body: str = CODE) -> bytes:
    package = tmp / "package.zip"
    package.write_bytes(python_zip(body))
    lambent("sign", str(package), "--key", str(key), "--profile-version-arn", arn)
    return package.read_bytes()


def tampered(data: bytes) -> bytes:
    """The package with app.py changed after signing, its signature kept."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info, body + b"\n# changed\n" if info.filename == "app.py" else body)
    return out.getvalue()


def failure(call: Any, **params: Any) -> tuple[int, str, str, dict[str, Any]]:
    with pytest.raises(ClientError) as exc:
        call(**params)
    resp: dict[str, Any] = dict(exc.value.response)
    return (
        resp["ResponseMetadata"]["HTTPStatusCode"],
        resp["Error"]["Code"],
        resp["Error"]["Message"],
        resp,
    )


def csc(lam: Any, arns: list[str], policy: str | None = None) -> str:
    params: dict[str, Any] = {"AllowedPublishers": {"SigningProfileVersionArns": arns}}
    if policy:
        params["CodeSigningPolicies"] = {"UntrustedArtifactOnDeployment": policy}
    return str(
        lam.create_code_signing_config(**params)["CodeSigningConfig"]["CodeSigningConfigArn"]
    )


def create(lam: Any, role: str, name: str, data: bytes, config: str | None) -> dict[str, Any]:
    extra = {"CodeSigningConfigArn": config} if config else {}
    out: dict[str, Any] = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": data},
        **extra,
    )
    return out


# -- the API -------------------------------------------------------------------------------
def test_a_config_is_created_read_updated_listed_and_deleted(lam: Any, account: str) -> None:
    profile = f"arn:aws:signer:us-east-1:{account}:/signing-profiles/p/ABCDEF1234"
    made = lam.create_code_signing_config(
        AllowedPublishers={"SigningProfileVersionArns": [profile]}
    )
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    config = made["CodeSigningConfig"]
    arn = config["CodeSigningConfigArn"]
    assert (
        config["CodeSigningConfigId"].startswith("csc-")
        and len(config["CodeSigningConfigId"]) == 21
    )
    assert (
        arn
        == f"arn:aws:lambda:us-east-1:{account}:code-signing-config:{config['CodeSigningConfigId']}"
    )
    assert config["CodeSigningPolicies"] == {"UntrustedArtifactOnDeployment": "Warn"}
    assert config["Description"] == ""
    assert lam.get_code_signing_config(CodeSigningConfigArn=arn)["CodeSigningConfig"] == config
    updated = lam.update_code_signing_config(
        CodeSigningConfigArn=arn,
        Description="prod",
        CodeSigningPolicies={"UntrustedArtifactOnDeployment": "Enforce"},
    )["CodeSigningConfig"]
    assert (updated["Description"], updated["CodeSigningPolicies"]) == (
        "prod",
        {"UntrustedArtifactOnDeployment": "Enforce"},
    )
    listed = lam.list_code_signing_configs()["CodeSigningConfigs"]
    assert arn in [c["CodeSigningConfigArn"] for c in listed]
    lam.delete_code_signing_config(CodeSigningConfigArn=arn)
    assert arn not in [
        c["CodeSigningConfigArn"] for c in lam.list_code_signing_configs()["CodeSigningConfigs"]
    ]


@pytest.mark.parametrize("operation", ["get", "update", "delete", "functions"])
def test_an_unknown_config_is_not_found_without_type(
    lam: Any, account: str, operation: str
) -> None:
    arn = UNKNOWN.format(account=account)
    call = {
        "get": lam.get_code_signing_config,
        "update": lam.update_code_signing_config,
        "delete": lam.delete_code_signing_config,
        "functions": lam.list_functions_by_code_signing_config,
    }[operation]
    status, code, message, resp = failure(call, CodeSigningConfigArn=arn)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"The Lambda code signing configuration {arn} can not be found."
    assert "Type" not in resp


def test_a_function_without_a_config_answers_an_empty_200(lam: Any, role: str) -> None:
    create(lam, role, "csc-none", python_zip(CODE), None)
    out = lam.get_function_code_signing_config(FunctionName="csc-none")
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert {k for k in out if k != "ResponseMetadata"} == set()


def test_the_config_of_a_missing_function_is_not_found(lam: Any, account: str) -> None:
    status, code, message, _ = failure(
        lam.get_function_code_signing_config, FunctionName="csc-nobody"
    )
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: arn:aws:lambda:us-east-1:{account}:function:csc-nobody"


def test_a_function_cannot_use_a_config_that_does_not_exist(
    lam: Any, role: str, account: str
) -> None:
    arn = UNKNOWN.format(account=account)
    create(lam, role, "csc-attach", python_zip(CODE), None)
    status, code, message, _ = failure(
        lam.put_function_code_signing_config, FunctionName="csc-attach", CodeSigningConfigArn=arn
    )
    assert (status, code) == (404, "CodeSigningConfigNotFoundException")
    assert message == (
        "The code signing configuration cannot be found. Check that the provided "
        f"configuration is not deleted: {arn}."
    )
    status, code, _, _ = failure(
        lam.create_function,
        FunctionName="csc-attach-2",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(CODE)},
        CodeSigningConfigArn=arn,
    )
    assert (status, code) == (404, "CodeSigningConfigNotFoundException")


def test_a_function_uses_detaches_and_lists_by_a_config(lam: Any, role: str, account: str) -> None:
    profile = f"arn:aws:signer:us-east-1:{account}:/signing-profiles/p/ABCDEF1234"
    arn = csc(lam, [profile])
    create(lam, role, "csc-user", python_zip(CODE), None)
    put = lam.put_function_code_signing_config(FunctionName="csc-user", CodeSigningConfigArn=arn)
    assert (put["CodeSigningConfigArn"], put["FunctionName"]) == (arn, "csc-user")
    got = lam.get_function_code_signing_config(FunctionName="csc-user")
    assert (got["CodeSigningConfigArn"], got["FunctionName"]) == (arn, "csc-user")
    users = lam.list_functions_by_code_signing_config(CodeSigningConfigArn=arn)["FunctionArns"]
    assert users == [f"arn:aws:lambda:us-east-1:{account}:function:csc-user"]
    status, code, _, _ = failure(lam.delete_code_signing_config, CodeSigningConfigArn=arn)
    assert (status, code) == (409, "ResourceConflictException")
    lam.delete_function_code_signing_config(FunctionName="csc-user")
    assert "CodeSigningConfigArn" not in lam.get_function_code_signing_config(
        FunctionName="csc-user"
    )
    lam.delete_code_signing_config(CodeSigningConfigArn=arn)


# -- Warn and Enforce ----------------------------------------------------------------------
def test_enforce_refuses_unsigned_code_and_accepts_code_signed_by_an_allowed_profile(
    srv: ServerProcess, lam: Any, role: str, tmp_path: Path
) -> None:
    profile, key = register(srv, tmp_path, "release", ed25519.Ed25519PrivateKey.generate())
    assert (
        profile.startswith("arn:aws:signer:us-east-1:") and "/signing-profiles/release/" in profile
    )
    arn = csc(lam, [profile], "Enforce")
    status, code, message, _ = failure(
        lam.create_function,
        FunctionName="csc-enforced",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": python_zip(CODE)},
        CodeSigningConfigArn=arn,
    )
    assert (status, code) == (400, "CodeVerificationFailedException")
    assert message.startswith("Lambda cannot deploy the function.")

    create(lam, role, "csc-enforced", signed(tmp_path, key, profile), arn)
    lam.get_waiter("function_active_v2").wait(FunctionName="csc-enforced")
    out = lam.invoke(FunctionName="csc-enforced")
    assert json.loads(out["Payload"].read()) == {"signed": True}

    status, code, _, _ = failure(
        lam.update_function_code, FunctionName="csc-enforced", ZipFile=python_zip(CODE)
    )
    assert (status, code) == (400, "CodeVerificationFailedException")
    lam.update_function_code(
        FunctionName="csc-enforced", ZipFile=signed(tmp_path, key, profile, CODE + "# v2\n")
    )


def test_enforce_refuses_a_signature_by_a_key_the_profile_does_not_have(
    srv: ServerProcess, lam: Any, role: str, tmp_path: Path
) -> None:
    profile, _ = register(srv, tmp_path, "team", ec.generate_private_key(ec.SECP256R1()))
    impostor = write_key(tmp_path / "impostor.key", ec.generate_private_key(ec.SECP256R1()))
    arn = csc(lam, [profile], "Enforce")
    status, code, _, _ = failure(
        lam.create_function,
        FunctionName="csc-impostor",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": signed(tmp_path, impostor, profile)},
        CodeSigningConfigArn=arn,
    )
    assert (status, code) == (400, "CodeVerificationFailedException")


def test_a_package_changed_after_signing_is_refused_even_under_warn(
    srv: ServerProcess, lam: Any, role: str, tmp_path: Path
) -> None:
    profile, key = register(srv, tmp_path, "ci", ed25519.Ed25519PrivateKey.generate())
    arn = csc(lam, [profile], "Warn")
    status, code, message, _ = failure(
        lam.create_function,
        FunctionName="csc-tampered",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": tampered(signed(tmp_path, key, profile))},
        CodeSigningConfigArn=arn,
    )
    assert (status, code) == (400, "InvalidCodeSignatureException")
    assert "integrity check" in message


def test_warn_accepts_unsigned_code_and_logs_it(
    srv: ServerProcess, lam: Any, role: str, tmp_path: Path, account: str
) -> None:
    profile, _ = register(srv, tmp_path, "warned", ed25519.Ed25519PrivateKey.generate())
    arn = csc(lam, [profile], "Warn")
    out = create(lam, role, "csc-warned", python_zip(CODE), arn)
    request_id = out["ResponseMetadata"]["RequestId"]
    function_arn = f"arn:aws:lambda:us-east-1:{account}:function:csc-warned"

    def logged() -> list[dict[str, Any]]:
        lines = [json.loads(t) for t in list(srv.errors) if t.startswith("{")]
        return [
            line
            for line in lines
            if line.get("event") == "code_signing.untrusted" and line["request_id"] == request_id
        ]

    deadline = time.monotonic() + 30
    while not logged():
        assert time.monotonic() < deadline, "no code_signing.untrusted line"
        time.sleep(0.1)
    (line,) = logged()
    assert (line["function"], line["verdict"], line["config"]) == (function_arn, "unsigned", arn)
