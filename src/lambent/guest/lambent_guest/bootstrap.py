"""Entry point of Lambent's Python runtime: `python3 /var/runtime/lambent_guest/bootstrap.py`.

The handler comes from _HANDLER (or argv[1]). The runtime itself is `runtime.PythonRuntime`,
re-exported here for the zygote. This file stays small: a script's own code is compiled on
every start (only imported modules get cached bytecode).
"""

from __future__ import annotations

import os
import sys

if not __package__:
    # Run as a script: this directory is sys.path[0], which would let the function import
    # the runtime's modules by their bare names. Import the package from its parent instead
    # (PEP 366), so the relative imports below work in every way this file is loaded.
    _HERE = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    sys.path.insert(0, os.path.dirname(_HERE))
    __package__ = "lambent_guest"

from .runtime import InitOutcome, PythonRuntime, main

__all__ = ["InitOutcome", "PythonRuntime", "main"]

if __name__ == "__main__":
    main()
