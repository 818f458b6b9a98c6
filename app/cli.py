"""What Sextant's command lines share: a usage error in one line, and one place where an error becomes a
line on stderr and an exit code (never a traceback). Each command line documents its own codes; 0 is ok
and 2 is usage or configuration in all of them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

from app.config import ConfigError

EXIT_OK = 0
EXIT_USAGE = 2

# (an error class, what to say of it and the exit code), looked up in order
Handler = tuple[type[Exception], Callable[[Any], tuple[str, int]]]  # Any: the error of that class


class Stop(Exception):
    """Ends a command with exit code `code`: `message` is said as one error line; without one, the command
    has said why itself."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (and exit EXIT_USAGE, as argparse does)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def run(
    top: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    out: TextIO | None,
    err: TextIO | None,
    handlers: Sequence[Handler] = (),
) -> int:
    """Parse `argv`, run the command's `func(args, out, err)` and return its exit code; a bad SEXTANT_*
    setting, or an error one of `handlers` names, is one line on `err` and that handler's code; a `Stop`,
    its message and code."""
    args = top.parse_args(argv)
    err = err or sys.stderr
    known: Sequence[Handler] = [(ConfigError, lambda exc: (str(exc), EXIT_USAGE)), *handlers]
    try:
        return int(args.func(args, out or sys.stdout, err))
    except Stop as stop:
        if stop.message:
            print(f"error: {stop.message}", file=err)
        return stop.code
    except tuple(kind for kind, _ in known) as exc:
        message, code = next(handle(exc) for kind, handle in known if isinstance(exc, kind))
        print(f"error: {message}", file=err)
        return code
