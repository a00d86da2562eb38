"""`lambent serve --role`: `all` stays the default and needs nothing; frontend and worker
need a shared database and the cluster secret, a worker its internal listener, and
--processes is the frontend's; each refusal is one clear line."""

from __future__ import annotations

import pytest

from lambent.cli.main import build_parser
from lambent.cli.serve import settings_from
from lambent.settings import Settings

DB = "postgresql://postgres@127.0.0.1:5432/test"


def _settings(*args: str) -> Settings:
    return settings_from(build_parser().parse_args(["serve", *args]))


def _refused(*args: str) -> str:
    with pytest.raises(SystemExit) as caught:
        _settings(*args)
    return str(caught.value)


def test_all_is_the_default_and_unchanged() -> None:
    settings = _settings()
    assert settings.role == "all" and settings.cluster.processes == 1
    assert settings.cluster.secret_file is None


def test_frontend_and_worker_need_a_database_and_the_secret() -> None:
    assert "needs --database" in _refused("--role", "frontend")
    assert "needs --database" in _refused("--role", "worker", "--internal-listen", "h:1")
    assert "--cluster-secret-file" in _refused("--role", "frontend", "--database", DB)
    front = _settings("--role", "frontend", "--database", DB, "--cluster-secret-file", "s")
    assert front.role == "frontend" and front.cluster.secret_file is not None


def test_a_worker_needs_its_internal_listener() -> None:
    base = ("--role", "worker", "--database", DB, "--cluster-secret-file", "s")
    assert "--internal-listen" in _refused(*base)
    assert "HOST:PORT" in _refused(*base, "--internal-listen", "19600")
    worker = _settings(*base, "--internal-listen", "127.0.0.1:19601", "--port", "9601")
    assert (worker.cluster.internal_host, worker.cluster.internal_port) == ("127.0.0.1", 19601)
    assert worker.cluster.internal_address == "127.0.0.1:19601"
    assert worker.endpoint == "http://127.0.0.1:9601"  # the frontend its functions call
    assert "for --role worker" in _refused("--internal-listen", "127.0.0.1:1")


def test_processes_are_the_frontends() -> None:
    assert "--processes is for --role frontend" in _refused("--processes", "2")
    assert "at least 1" in _refused("--processes", "0")
    front = ("--role", "frontend", "--database", DB, "--cluster-secret-file", "s")
    assert _settings(*front, "--processes", "2").cluster.processes == 2
