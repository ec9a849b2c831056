"""The `redactor` command: redact files or streams, follow logs, check config, alerts."""

from __future__ import annotations

import argparse
import gzip
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ._config import load_config
from ._engine import Redactor
from ._progress import Progress
from ._schema import ConfigError
from ._stream import BLOCK, StreamRedactor

EXIT_CONFIG = 2
_GZIP_MAGIC = b"\x1f\x8b"
Command = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    """Register a subcommand handler (other modules add theirs: tail, alerts, stats)."""

    def register(handler: Command) -> Command:
        _COMMANDS[name] = handler
        return handler

    return register


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="redactor", description=__doc__)
    parser.add_argument("--config", help="config file (default: the bundled config.toml)")
    commands = parser.add_subparsers(dest="command", required=True)

    redact = commands.add_parser("redact", help="redact files (or stdin) to stdout or a file")
    redact.add_argument("files", nargs="*", help="input files; gzip is read transparently")
    redact.add_argument("-o", "--output", help="write here instead of stdout (mode 0600)")
    redact.add_argument("--progress", choices=["auto", "always", "never"], default="auto")

    commands.add_parser("check", help="validate the config and rule packs; exit 2 if bad")
    _add_extensions(commands)
    return parser


def _add_extensions(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .tail._cli import add_tail_parser

    add_tail_parser(commands)
    try:
        from .alerting._cli import add_alert_parsers
    except ImportError:  # alerting not built yet
        return
    add_alert_parsers(commands)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except ConfigError as error:
        sys.stderr.write(f"redactor: config error: {error}\n")
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def redactor_for(args: argparse.Namespace) -> Redactor:
    """The Redactor for the `--config` given on the command line."""
    return Redactor(load_config(args.config))


@command("check")
def _check(args: argparse.Namespace) -> int:
    from .alerting import check_alerts, load_rules

    redactor = redactor_for(args)
    channels = check_alerts(redactor.config).channels  # what `tail` and `alerts test` run
    alert_rules = load_rules(redactor.config)
    rules = ", ".join(rule.id for rule in redactor.rules)
    source = redactor.config.source
    print(f"{source}: ok ({len(redactor.rules)} rules enabled: {rules})")
    if alert_rules or channels:
        print(f"{source}: alerts ok ({len(alert_rules)} alert rules, {len(channels)} channels)")
    return 0


@command("redact")
def _redact(args: argparse.Namespace) -> int:
    redactor = redactor_for(args)
    paths = [Path(name) for name in args.files]
    total = sum(path.stat().st_size for path in paths) if paths else 0
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    progress = Progress(total, enabled=show and total > 8 * BLOCK)
    with _output(args.output) as out:
        for source in _inputs(paths):
            with source as handle:
                _redact_stream(redactor, handle, out, progress)
    progress.close()
    if redactor.stats.withheld_lines:
        sys.stderr.write(f"redactor: {redactor.stats.withheld_lines} line(s) withheld\n")
        return 1
    return 0


def _redact_stream(redactor: Redactor, source: BinaryIO, out: BinaryIO, progress: Progress) -> None:
    stream = StreamRedactor(redactor)
    while chunk := source.read(BLOCK):
        out.write(stream.feed(chunk))
        progress.advance(len(chunk))
    out.write(stream.flush())


def _inputs(paths: list[Path]) -> Iterator[BinaryIO]:
    if not paths:
        yield sys.stdin.buffer
        return
    for path in paths:
        yield open_maybe_gzip(path)


def open_maybe_gzip(path: Path) -> BinaryIO:
    """Open a file for reading, decompressing it when it starts with the gzip magic."""
    handle = path.open("rb")
    if handle.read(2) == _GZIP_MAGIC:
        handle.seek(0)
        return gzip.GzipFile(fileobj=handle)  # type: ignore[return-value]
    handle.seek(0)
    return handle


@contextmanager
def _output(name: str | None) -> Iterator[BinaryIO]:
    if name is None or name == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    descriptor = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        yield handle
