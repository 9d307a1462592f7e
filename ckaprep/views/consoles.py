"""The two consoles a command prints on: its results on standard output, and errors, warnings
and progress on standard error. Given no stream, a console writes to sys.stdout or sys.stderr
as they are when it writes (typer's CliRunner swaps them while a command runs)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TextIO

from rich.console import Console

# Narrower than this, nothing reads; COLUMNS=1 is taken as this many columns.
MIN_COLUMNS = 20


def output_console(file: TextIO | None = None) -> Console:
    # No markup or emoji codes: names, messages from the API and file contents print as they are.
    return Console(file=file, highlight=False, soft_wrap=False, markup=False, emoji=False, _environ=TerminalEnviron())


def error_console(file: TextIO | None = None) -> Console:
    return Console(
        file=file, stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True, _environ=TerminalEnviron()
    )


class TerminalEnviron(Mapping):
    """os.environ as rich reads it for the terminal's size: a COLUMNS or LINES that is not a
    positive number counts as unset (COLUMNS=0 would print nothing at all, errors included),
    and COLUMNS below MIN_COLUMNS counts as MIN_COLUMNS."""

    def __getitem__(self, key: str) -> str:
        value = os.environ[key]
        if key in ("COLUMNS", "LINES"):
            if not value.isdigit() or int(value) == 0:
                raise KeyError(key)
            if key == "COLUMNS":
                return str(max(int(value), MIN_COLUMNS))
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(os.environ)

    def __len__(self) -> int:
        return len(os.environ)
