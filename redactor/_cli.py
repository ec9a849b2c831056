"""The `redactor` command: redact files or streams, follow logs, check config, alerts."""

from __future__ import annotations

import argparse
import errno
import gzip
import os
import signal
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, cast

from ._config import load_config
from ._engine import Redactor
from ._progress import Progress
from ._schema import ConfigError
from ._stream import BLOCK, StreamRedactor, TranscodingRedactor, wide_encoding

EXIT_FAILED = 1
EXIT_CONFIG = 2
_GZIP_MAGIC = b"\x1f\x8b"
Command = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A command line that would do harm or cannot work (exit status 2)."""


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

    check = commands.add_parser("check", help="validate the config and rule packs; exit 2 if bad")
    for sub in (redact, check):  # also after the subcommand, as `redactor tail` takes it
        sub.add_argument("--config", default=argparse.SUPPRESS, help="config file")
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
    except UsageError as error:
        sys.stderr.write(f"redactor: {error}\n")
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (| head) is gone: exit quietly, without a flush error at shutdown.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
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
    enabled = f"{len(redactor.rules)} rules enabled: {rules}"
    print(f"{source}: ok ({enabled}; scan loop in {redactor.scan_loop})")
    if alert_rules or channels:
        counts = f"{_count(len(alert_rules), 'alert rule')}, {_count(len(channels), 'channel')}"
        print(f"{source}: alerts ok ({counts})")
    return 0


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@command("redact")
def _redact(args: argparse.Namespace) -> int:
    redactor = redactor_for(args)
    signal.signal(signal.SIGTERM, _stop)  # unwinds, so that held lines are written out
    names = args.files or ["-"]
    _refuse_to_overwrite_an_input(names, args.output)
    total = sum(os.path.getsize(name) for name in names if name != "-" and os.path.isfile(name))
    show = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    progress = Progress(total, enabled=show and total > 8 * BLOCK)
    try:
        with _output(args.output) as out:
            for name in names:
                failure = _redact_input(redactor, name, out, progress)
                if failure:
                    raise _Failed(failure)
    except _Failed as failure:
        sys.stderr.write(f"redactor: {failure}\n")
        return EXIT_FAILED
    except BrokenPipeError:
        raise
    except OSError as error:
        sys.stderr.write(f"redactor: cannot write {args.output}: {error.strerror}\n")
        return EXIT_FAILED
    progress.close()
    if redactor.stats.withheld_lines:
        sys.stderr.write(f"redactor: {redactor.stats.withheld_lines} line(s) withheld\n")
        return EXIT_FAILED
    return 0


class _Failed(Exception):
    """An input could not be read; the output is not written (an old one stays as it was)."""


def _refuse_to_overwrite_an_input(names: list[str], output: str | None) -> None:
    if output is None or output == "-" or not os.path.exists(output):
        return
    for name in names:
        if name != "-" and os.path.exists(name) and os.path.samefile(name, output):
            raise UsageError(f"the output {output} is also an input: it would be emptied")


def _redact_input(redactor: Redactor, name: str, out: BinaryIO, progress: Progress) -> str:
    """Redact one input into `out`; return what went wrong, or "" when nothing did."""
    label = "stdin" if name == "-" else name
    try:
        with _open_input(name) as handle:
            _redact_stream(redactor, handle, out, progress)
    except BrokenPipeError:
        raise  # the reader of our output went away; not this input's fault
    except OSError as error:
        if isinstance(error, gzip.BadGzipFile):
            return f"{label}: not a valid gzip file"
        return f"{label}: {error.strerror or type(error).__name__}"
    except (EOFError, zlib.error):
        return f"{label}: the gzip data is corrupt or cut short"
    except UnicodeError:  # UTF-16 or UTF-32 input whose redacted text cannot be encoded back
        return f"{label}: the redacted text cannot be written in the input's encoding"
    return ""


def _redact_stream(redactor: Redactor, source: BinaryIO, out: BinaryIO, progress: Progress) -> None:
    """Redact `source` into `out` as it comes: each read is written (and flushed) at once.

    A pipe is read for what is there rather than a whole block, which keeps
    `app | redactor redact` from holding lines back (a file is read in whole blocks, which is
    faster); on SIGTERM or Ctrl-C what is held is redacted and written out too.
    """
    peeked = _Rewound(source, 4)
    stream = _stream_for(redactor, peeked, out)
    read = peeked.read if _is_file(source) else peeked.read1
    try:
        while chunk := read(BLOCK):
            out.write(stream.feed(chunk))
            out.flush()
            progress.advance(len(chunk))
    finally:
        out.write(stream.flush())


def _is_file(source: BinaryIO) -> bool:
    """Whether `source` is a regular file, read in whole blocks; else a pipe, read as it comes."""
    try:
        return stat.S_ISREG(os.fstat(source.fileno()).st_mode)
    except (OSError, AttributeError, ValueError):
        return False


def _stream_for(
    redactor: Redactor, source: _Rewound, out: BinaryIO
) -> StreamRedactor | TranscodingRedactor:
    """The redactor for an input, by its first bytes; a byte-order mark goes out as it came.

    UTF-16 and UTF-32 are redacted as text and written in their own encoding; anything else
    byte by byte, as UTF-8 or another ASCII-compatible encoding.
    """
    found = wide_encoding(source.head)
    if found is None:
        return StreamRedactor(redactor)
    bom, codec = found
    out.write(source.read(len(bom)))
    return TranscodingRedactor(redactor, codec)


def _open_input(name: str) -> BinaryIO:
    """A file (or stdin for "-"), decompressed when it starts with the gzip magic."""
    if name == "-":
        return _maybe_gzip(_Rewound(sys.stdin.buffer))
    if os.path.isdir(name):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
    return _maybe_gzip(_Rewound(Path(name).open("rb")))


def _maybe_gzip(source: _Rewound) -> BinaryIO:
    if source.head == _GZIP_MAGIC:
        return cast(BinaryIO, gzip.GzipFile(fileobj=cast(BinaryIO, source), mode="rb"))
    return cast(BinaryIO, source)


class _Rewound:
    """A binary stream whose first bytes were read to look for the gzip magic or a BOM.

    They are handed out again first: a pipe cannot seek back.
    """

    def __init__(self, stream: BinaryIO, peek: int = 2) -> None:
        self._stream = stream
        self.head = stream.read(peek)
        self._pending = self.head

    def read1(self, size: int) -> bytes:
        """Up to `size` bytes, the peeked ones first, without waiting for more than one read."""
        if self._pending:
            return self.read(min(size, len(self._pending)))
        read1 = getattr(self._stream, "read1", self._stream.read)
        return cast(bytes, read1(size))

    def fileno(self) -> int:
        """The file descriptor of the stream underneath."""
        return self._stream.fileno()

    def read(self, size: int = -1) -> bytes:
        """Read like the stream would have, the peeked bytes first."""
        if not self._pending:
            return self._stream.read(size)
        head, self._pending = self._pending, b""
        if size is not None and 0 <= size <= len(head):
            head, self._pending = head[:size], head[size:]
            return head
        rest = self._stream.read(-1 if size is None or size < 0 else size - len(head))
        return head + rest

    def __enter__(self) -> _Rewound:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stream is not sys.stdin.buffer:
            self._stream.close()

    def close(self) -> None:
        """Close the underlying file (never stdin)."""
        self.__exit__()


@contextmanager
def _output(name: str | None) -> Iterator[BinaryIO]:
    """Where the redacted text goes; a file appears only once everything is written."""
    if name is None or name == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    if os.path.isdir(name):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
    if os.path.exists(name) and not os.path.isfile(name):
        with open(name, "wb") as device:  # /dev/null, a named pipe: write straight through
            yield device
        return
    folder = os.path.dirname(os.path.abspath(name))
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".redactor-")  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
        os.replace(temporary, name)
    except BaseException:
        os.unlink(temporary)
        raise
