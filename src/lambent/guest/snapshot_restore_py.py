"""AWS's SnapStart runtime hooks for Python (`snapshot_restore_py`), available to functions.

Functions register callables with `register_before_snapshot` and `register_after_restore`,
as decorators or as plain calls with arguments. The zygote runs them: before-snapshot
hooks once init has finished in the template, in reverse order of registration (the last
registered runs first), and after-restore hooks in each forked environment, in order.

The registries are module state on purpose: that is the library's contract (a function
registers from anywhere in its code and the runtime finds the hooks later). This module is
guest code; it lives at /var/runtime and is never imported by Lambent itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register_after_restore", "register_before_snapshot"]

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

_before_snapshot_registry: list[Hook] = []
_after_restore_registry: list[Hook] = []


def register_before_snapshot(
    func: Callable[..., Any], *args: Any, **kwargs: Any
) -> Callable[..., Any]:
    """Run `func(*args, **kwargs)` before the snapshot is taken; returns `func`."""
    _before_snapshot_registry.append((func, args, kwargs))
    return func


def register_after_restore(
    func: Callable[..., Any], *args: Any, **kwargs: Any
) -> Callable[..., Any]:
    """Run `func(*args, **kwargs)` after an environment is restored; returns `func`."""
    _after_restore_registry.append((func, args, kwargs))
    return func


def get_before_snapshot() -> list[Hook]:
    return _before_snapshot_registry


def get_after_restore() -> list[Hook]:
    return _after_restore_registry


def run_before_snapshot() -> None:
    """Run and consume the before-snapshot hooks, last registered first.

    An exception propagates to the caller (AWS reports it as Runtime.BeforeSnapshotError);
    hooks already run are not run again.
    """
    while _before_snapshot_registry:
        func, args, kwargs = _before_snapshot_registry.pop()
        func(*args, **kwargs)


def run_after_restore() -> None:
    """Run the after-restore hooks in registration order (Runtime.AfterRestoreError)."""
    for func, args, kwargs in list(_after_restore_registry):
        func(*args, **kwargs)
