"""The CLI finds a server on any port (issue 8 §1.14): from the endpoint the server wrote
into its data dir, from AWS_ENDPOINT_URL, or from --endpoint-url; the aws CLI finds it
from the data dir's config."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.integration.cli_support import clean_env, run_cli
from tests.support import ServerProcess, free_port, start_server


def test_the_cli_finds_a_server_on_a_random_port_from_its_data_dir(tmp_path: Path) -> None:
    port = free_port()
    assert port != 9000
    server = start_server(tmp_path / "data", port=port)
    try:
        assert (server.data_dir / "endpoint").read_text().strip() == server.endpoint
        # Only the data dir: no --endpoint-url, no endpoint variable.
        done = run_cli(None, "ls", "--data-dir", str(server.data_dir), home=tmp_path)
        assert done.code == 0, done.stderr
    finally:
        server.stop()
    # Restarted on another port: the data dir says where it is now.
    server = start_server(tmp_path / "data", port=free_port())
    try:
        done = run_cli(None, "ls", "--data-dir", str(server.data_dir), home=tmp_path)
        assert done.code == 0, done.stderr
        aws = [sys.executable, "-m", "awscli", "lambda", "list-functions"]
        env = clean_env(
            tmp_path,
            {
                "AWS_SHARED_CREDENTIALS_FILE": str(server.data_dir / "credentials"),
                "AWS_CONFIG_FILE": str(server.data_dir / "config"),
            },
        )
        listed = subprocess.run(
            aws, capture_output=True, text=True, env=env, timeout=120, check=False
        )
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)["Functions"] == []
    finally:
        server.stop()


def test_aws_endpoint_url_and_the_flag(server: ServerProcess, tmp_path: Path) -> None:
    elsewhere = tmp_path / "not-the-data-dir"
    elsewhere.mkdir()
    shutil.copy(server.data_dir / "credentials", elsewhere / "credentials")
    base = ("ls", "--data-dir", str(elsewhere))
    done = run_cli(None, *base, home=tmp_path, env={"AWS_ENDPOINT_URL": server.endpoint})
    assert done.code == 0, done.stderr
    done = run_cli(None, *base, "--endpoint-url", server.endpoint, home=tmp_path)
    assert done.code == 0, done.stderr
