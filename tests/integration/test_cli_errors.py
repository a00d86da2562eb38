"""How the CLI finds its server and credentials, and what it says when that goes wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.integration.cli_support import run_cli
from tests.support import ServerProcess, free_port


def keys(server: ServerProcess) -> dict[str, str]:
    key, secret = server.credentials()
    return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}


def test_wrong_secret_prints_the_aws_error(server: ServerProcess, tmp_path: Path) -> None:
    env = {**keys(server), "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    done = run_cli(None, "ls", "--endpoint-url", server.endpoint, home=tmp_path, env=env)
    assert done.code == 1
    assert done.stdout == ""
    assert done.stderr.startswith(
        "lambent: InvalidSignatureException: The request signature we calculated does not "
        "match the signature you provided."
    )
    assert "Traceback" not in done.stderr


def test_unknown_key_prints_the_aws_error(server: ServerProcess, tmp_path: Path) -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIANOTAREALKEY00000", "AWS_SECRET_ACCESS_KEY": "x"}
    done = run_cli(None, "invoke", "f", "--endpoint-url", server.endpoint, home=tmp_path, env=env)
    assert done.code == 1
    assert done.stderr.startswith("lambent: UnrecognizedClientException: ")


def test_server_down_gives_a_hint(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    for args in (("ls",), ("invoke", "f", "{}"), ("logs", "f")):
        done = run_cli(None, *args, "--endpoint-url", url, home=tmp_path, env=env)
        assert done.code == 1, args
        assert done.stderr == (
            f"lambent: cannot connect to {url}: connection refused "
            f"(is `lambent serve` running at {url}?)\n"
        )


def test_no_credentials_anywhere(server: ServerProcess, tmp_path: Path) -> None:
    done = run_cli(None, "ls", "--endpoint-url", server.endpoint, home=tmp_path)
    assert done.code == 1
    assert done.stderr.startswith("lambent: no credentials found")


def test_unknown_profile(server: ServerProcess, tmp_path: Path) -> None:
    done = run_cli(server, "ls", "--profile", "nobody", home=tmp_path)
    assert done.code == 1
    assert done.stderr.startswith("lambent: profile 'nobody' not found in ")


def test_bad_arguments_print_usage(tmp_path: Path) -> None:
    for args in (("invoke",), ("ls", "--page-size", "many"), ("deploy", "dir"), ("nope",)):
        done = run_cli(None, *args, home=tmp_path)
        assert done.code == 2, args
        assert done.stderr.startswith("usage: lambent"), args
        assert "Traceback" not in done.stderr


def test_endpoint_and_keys_from_the_environment(server: ServerProcess, tmp_path: Path) -> None:
    env = {**keys(server), "LAMBENT_ENDPOINT": server.endpoint}
    done = run_cli(None, "ls", home=tmp_path, env=env)
    assert done.code == 0, done.stderr


def test_shared_credentials_file_and_profile(server: ServerProcess, tmp_path: Path) -> None:
    key, secret = server.credentials()
    creds = tmp_path / "shared"
    creds.write_text(
        f"[default]\naws_access_key_id = {key}\naws_secret_access_key = wrong\n"
        f"[work]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
    )
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(creds), "LAMBENT_ENDPOINT": server.endpoint}
    assert run_cli(None, "ls", "--profile", "work", home=tmp_path, env=env).code == 0
    assert run_cli(None, "ls", home=tmp_path, env={**env, "AWS_PROFILE": "work"}).code == 0
    wrong = run_cli(None, "ls", home=tmp_path, env=env)
    assert wrong.code == 1
    assert "InvalidSignatureException" in wrong.stderr
    # An explicit --profile wins over keys in the environment, as with botocore.
    bad_env = {**env, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "nope"}
    assert run_cli(None, "ls", "--profile", "work", home=tmp_path, env=bad_env).code == 0


def test_the_default_data_dir_in_the_working_directory(
    server: ServerProcess, tmp_path: Path
) -> None:
    """`lambent serve` and `lambent ls` started in the same directory need no set-up."""
    (tmp_path / ".lambent").mkdir()
    shutil.copy(server.data_dir / "credentials", tmp_path / ".lambent" / "credentials")
    done = run_cli(None, "ls", home=tmp_path, env={"LAMBENT_ENDPOINT": server.endpoint})
    assert done.code == 0, done.stderr


def test_home_aws_credentials_are_the_last_resort(server: ServerProcess, tmp_path: Path) -> None:
    (tmp_path / ".aws").mkdir()
    shutil.copy(server.data_dir / "credentials", tmp_path / ".aws" / "credentials")
    done = run_cli(None, "ls", home=tmp_path, env={"LAMBENT_ENDPOINT": server.endpoint})
    assert done.code == 0, done.stderr
