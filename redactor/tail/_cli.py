"""The `redactor tail` subcommand."""

from __future__ import annotations

import argparse


def add_tail_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `redactor tail` to the command line."""
    from .._cli import command

    tail = commands.add_parser("tail", help="follow log files and write redacted copies")
    tail.add_argument("files", nargs="+")
    tail.add_argument("--output-dir", required=True)
    tail.add_argument("--once", action="store_true")

    @command("tail")
    def _tail(args: argparse.Namespace) -> int:
        raise SystemExit("redactor tail: not built yet")
