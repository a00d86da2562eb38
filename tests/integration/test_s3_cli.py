"""The aws CLI (v1) against Lambent's S3: high-level `s3` commands and `s3api`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import ServerProcess

AWS = str(Path(sys.executable).parent / "aws")


def aws(server: ServerProcess, *args: str) -> str:
    key, secret = server.credentials()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run(
        [AWS, "--endpoint-url", server.endpoint, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_copy_list_download_remove(server: ServerProcess, tmp_path: Path) -> None:
    aws(server, "s3", "mb", "s3://cli-bucket")
    small = tmp_path / "small.txt"
    small.write_text("from the cli\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024))  # over the CLI's 8 MB multipart threshold
    aws(server, "s3", "cp", str(small), "s3://cli-bucket/dir/small.txt")
    aws(server, "s3", "cp", str(big), "s3://cli-bucket/big.bin")
    listing = aws(server, "s3", "ls", "s3://cli-bucket/")
    assert "PRE dir/" in listing and "big.bin" in listing
    assert "dir/small.txt" in aws(server, "s3", "ls", "s3://cli-bucket/", "--recursive")
    put = json.loads(
        aws(
            server,
            "s3api",
            "put-object",
            "--bucket",
            "cli-bucket",
            "--key",
            "api.txt",
            "--body",
            str(small),
        )
    )
    assert put["ETag"].startswith('"') and put["ChecksumCRC32"]
    head = json.loads(
        aws(server, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "big.bin")
    )
    assert head["ContentLength"] == big.stat().st_size
    assert head["ETag"].endswith('-2"')  # uploaded in parts
    back = tmp_path / "back.bin"
    aws(server, "s3", "cp", "s3://cli-bucket/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    aws(server, "s3", "sync", "s3://cli-bucket/dir", str(tmp_path / "synced"))
    assert (tmp_path / "synced" / "small.txt").read_text() == "from the cli\n"
    aws(server, "s3", "rm", "s3://cli-bucket/", "--recursive")
    assert aws(server, "s3", "ls", "s3://cli-bucket/") == ""
    aws(server, "s3", "rb", "s3://cli-bucket")
    assert "cli-bucket" not in aws(server, "s3", "ls")
