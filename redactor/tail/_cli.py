"""The `redactor tail` subcommand: options from the command line over the `[tail]` table."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._config import Config, load_config
from .._engine import Redactor
from .._schema import ConfigError
from ._settings import TailSettings, check_tail

if TYPE_CHECKING:
    from ._sink import LineSink

_HELP = """Follow log files (paths or globs) and write a redacted copy of each to --output-dir.
Rotation, truncation and restarts (also kill -9) neither lose nor repeat a line.
Limitations: a file truncated in place (copytruncate) may lose the lines written between the
last read and the truncation (the loss is logged); with fsync = "never" a machine crash (not a
process crash) may lose output lines; a line longer than 1 MiB reaches a line sink in pieces;
a rotated file is read until it has been quiet for rotate_wait after the rotation; a file
starting with a UTF-16 or UTF-32 byte-order mark is withheld (marker lines), not redacted."""


def add_tail_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `redactor tail` to the command line."""
    from .._cli import command

    tail = commands.add_parser(
        "tail",
        help="follow log files and write redacted copies",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tail.add_argument(
        "files",
        nargs="*",
        metavar="FILE_OR_GLOB",
        help="inputs (default: tail.paths from the config)",
    )
    tail.add_argument("--output-dir", help="where the redacted copies go")
    tail.add_argument("--state-dir", help="checkpoints (default: OUTPUT_DIR/.tail-state)")
    tail.add_argument("--once", action="store_true", help="process what is there and exit")
    tail.add_argument("--poll", action="store_true", help="poll instead of inotify (NFS)")
    tail.add_argument("--config", default=argparse.SUPPRESS, help="config file")
    command("tail")(run_tail)


def run_tail(args: argparse.Namespace) -> int:
    """Run the daemon (or one batch pass with --once) until SIGTERM or SIGINT."""
    from ._log import setup_logging
    from ._tailer import Tailer

    config = load_config(args.config)
    settings = tail_settings(config, args)
    setup_logging()
    redactor = Redactor(config)
    sinks, close_alerts = _line_sinks(config, settings, redactor, live=not args.once)
    show = settings.progress == "always" or (settings.progress == "auto" and sys.stderr.isatty())
    tailer = Tailer(settings, redactor, sink=sinks, once=args.once, show_progress=show)
    signal.signal(signal.SIGTERM, lambda *_: tailer.stop())
    signal.signal(signal.SIGINT, lambda *_: tailer.stop())
    signal.signal(signal.SIGHUP, lambda *_: tailer.reopen_outputs())
    try:
        status = tailer.run()
    except OSError as error:  # the output or state folder cannot be made or used
        where = error.filename or settings.output_dir
        sys.stderr.write(f"redactor tail: {where}: {error.strerror or type(error).__name__}\n")
        return 1
    if close_alerts is not None:
        close_alerts()  # evaluate what was read and deliver what fires before exiting
    return status


def _line_sinks(
    config: Config, settings: TailSettings, redactor: Redactor, live: bool
) -> tuple[LineSink | None, Callable[[], bool] | None]:
    """The configured line sink and, when alert rules are configured, the alert pipeline."""
    from ._sink import TeeSink, load_sink

    sinks = [load_sink(settings.sink)] if settings.sink else []
    close = None
    if config.alerts.rules:
        from ..alerting._pipeline import AlertPipeline

        pipeline = AlertPipeline(config, live=live, redactor=redactor)
        sinks.append(pipeline)
        close = pipeline.close
    if not sinks:
        return None, close
    return (sinks[0] if len(sinks) == 1 else TeeSink(sinks)), close


def tail_settings(config: Config, args: argparse.Namespace) -> TailSettings:
    """The `[tail]` settings with paths resolved and command-line options applied."""
    settings = config.tail
    source = str(config.source)
    paths = list(args.files) or [_resolved(config, path) for path in settings.paths]
    output_dir = args.output_dir or _resolved(config, settings.output_dir)
    if not paths:
        raise ConfigError(source, "tail.paths", "no input files given (arguments or tail.paths)")
    if not output_dir:
        raise ConfigError(source, "tail.output_dir", "no output folder (--output-dir)")
    state_dir = args.state_dir or _resolved(config, settings.state_dir)
    watch = "poll" if args.poll else settings.watch
    resolved = dataclasses.replace(
        settings, paths=paths, output_dir=output_dir, state_dir=state_dir, watch=watch
    )
    check_tail(resolved, source)
    return resolved


def _resolved(config: Config, path: str) -> str:
    """A path from the config file, relative to that file; empty stays empty."""
    return str(config.resolve(path)) if path else ""
