"""Resolving `module.function` (the function's Handler setting) to a callable.

Each failure carries AWS's error type and wording: a malformed name, a built-in module
name, a module that does not import (Runtime.ImportModuleError), a syntax error in the
function's code (Runtime.UserCodeSyntaxError), and a missing attribute
(Runtime.HandlerNotFound). Any other exception raised while importing propagates: AWS
reports it under the exception's own type.
"""

from __future__ import annotations

import importlib
import sys

from .faults import (
    BUILT_IN_MODULE_CONFLICT,
    HANDLER_NOT_FOUND,
    IMPORT_MODULE_ERROR,
    MALFORMED_HANDLER_NAME,
    USER_CODE_SYNTAX_ERROR,
    FaultError,
    syntax_error_trace,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Handler = Callable[[Any, Any], Any]


def load_handler(handler: str) -> Handler:
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError(MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': {exc}") from None
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultError(
                BUILT_IN_MODULE_CONFLICT,
                f"Cannot use built-in module {modname} as a handler module",
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise FaultError(
            IMPORT_MODULE_ERROR, f"Unable to import module '{modname}': {exc}"
        ) from None
    except SyntaxError as exc:
        raise FaultError(
            USER_CODE_SYNTAX_ERROR,
            f"Syntax error in module '{modname}': {exc}",
            syntax_error_trace(exc),
        ) from None
    try:
        function: Handler = getattr(module, fname)
    except AttributeError:
        raise FaultError(
            HANDLER_NOT_FOUND, f"Handler '{fname}' missing on module '{modname}'"
        ) from None
    return function
