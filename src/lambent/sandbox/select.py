"""Which sandbox backend this server uses: `namespaces` where it can, else `process`."""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path

from lambent.sandbox.interface import Sandbox
from lambent.sandbox.process import ProcessSandbox
from lambent.settings import Settings

log = logging.getLogger(__name__)


class SandboxUnavailable(Exception):
    pass


def _namespaces(settings: Settings, work: Path) -> Sandbox:
    try:
        module = importlib.import_module("lambent.sandbox.namespaces")
    except ImportError as exc:
        raise SandboxUnavailable(f"the namespaces backend is not installed: {exc}") from exc
    factory = getattr(module, "create", None)
    if factory is None:
        raise SandboxUnavailable("the namespaces backend has no create()")
    problem = getattr(module, "unavailable_reason", lambda: None)()
    if problem:
        raise SandboxUnavailable(str(problem))
    sandbox: Sandbox = factory(settings, work)
    return sandbox


def choose(settings: Settings) -> Sandbox:
    work = settings.data_dir / "sandbox"
    kind = settings.environments.sandbox
    if kind == "process":
        return ProcessSandbox(work)
    if kind == "namespaces":
        return _namespaces(settings, work)
    if os.geteuid() != 0:
        log.warning("not root: using the process sandbox (no isolation)")
        return ProcessSandbox(work)
    try:
        return _namespaces(settings, work)
    except SandboxUnavailable as exc:
        log.warning("namespaces sandbox unavailable (%s): using the process sandbox", exc)
        return ProcessSandbox(work)
