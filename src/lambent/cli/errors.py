"""What the client commands report instead of a traceback.

These are the client side's errors, not the server's taxonomy (`lambent.errors`): the CLI
receives AWS errors, it never raises them. Each one carries the line to print and the exit
status, so the command wrapper needs no knowledge of where it came from.
"""

from __future__ import annotations


class CliError(Exception):
    """A failure to print as `lambent: MESSAGE` and exit with `exit_code`."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ApiError(CliError):
    """An AWS-shaped error answer: the error code and message exactly as the server sent them."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.aws_message = message
        self.status = status


class EndpointUnreachable(CliError):
    """No HTTP conversation happened at all (refused, unresolvable, timed out)."""


class UsageError(CliError):
    """Bad input found after argparse (a payload that is not JSON, a missing directory)."""

    exit_code = 2
