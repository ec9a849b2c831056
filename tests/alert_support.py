"""Helpers for the alerting tests: an SMTP server, a JSON webhook server, Slack interception."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from aiosmtpd.controller import Controller


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.refuse = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "451 try again later"
        self.messages.append(envelope.content.decode("utf-8", "replace"))
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[int, _Mailbox]]:
    """An aiosmtpd server on 127.0.0.1; set `.refuse` to answer 451 to every message."""
    box = _Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@dataclass
class WebhookServer:
    """A JSON webhook receiver on 127.0.0.1 whose answer status can be changed."""

    status: int = 200
    bodies: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0


@contextmanager
def webhook_server() -> Iterator[WebhookServer]:
    state = WebhookServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            payload = self.rfile.read(length)
            if state.status == 200:
                state.bodies.append(json.loads(payload))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class SlackTransport:
    """Answers apprise's real Slack plugin at the requests transport; no network."""

    status: int = 200
    timeout: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def send(self, adapter: Any, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        assert request.url is not None
        if not request.url.startswith("https://hooks.slack.com/"):
            raise AssertionError(f"unexpected request to {request.url}")
        self.urls.append(request.url)
        if self.timeout:
            raise requests.exceptions.ReadTimeout("timed out")
        response = requests.Response()
        response.status_code = self.status
        response._content = b"ok" if self.status == 200 else b"internal_error"
        response.request = request
        response.url = request.url
        if self.status == 200:
            body = request.body
            self.sent.append(json.loads(body.decode() if isinstance(body, bytes) else body or ""))
        return response


@contextmanager
def slack_transport(monkeypatch: Any) -> Iterator[SlackTransport]:
    transport = SlackTransport()
    monkeypatch.setattr(
        requests.adapters.HTTPAdapter,
        "send",
        lambda adapter, request, **kw: transport.send(adapter, request, **kw),
    )
    yield transport


def write_config(folder: Path, channels: dict[str, str], rules: str, **alerts: Any) -> Path:
    """A config.toml with an [alerts] table and one rule file `rules.toml` next to it."""
    (folder / "rules.toml").write_text(rules)
    lines = ["[alerts]", 'rules = ["rules.toml"]', f'state_dir = "{folder / "state"}"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in alerts.items()]
    lines.append("[alerts.channels]")
    lines += [f"{name} = {json.dumps(url)}" for name, url in channels.items()]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path
