"""A Kubernetes API server on loopback that answers from recorded responses.

The official ``kubernetes`` client talks real HTTP to it, so its serialisation, paths, query
parameters and error mapping (404 -> ``NotFoundException``) are the real ones. The responses are
recorded shapes of the API (trimmed to the fields the code reads); whether a live cluster
answers the same is outside what this can show.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Answer = dict[str, Any] | tuple[int, dict[str, Any]] | Callable[[], Any]


def not_found(kind: str, name: str) -> tuple[int, dict[str, Any]]:
    return 404, {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": f'{kind} "{name}" not found',
        "reason": "NotFound",
        "code": 404,
    }


def listing(kind: str, items: list[dict[str, Any]], api_version: str = "v1") -> dict[str, Any]:
    return {"kind": f"{kind}List", "apiVersion": api_version, "metadata": {}, "items": items}


class RecordedApi:
    """Routes ``(METHOD, path)`` to an answer; a list of answers is served in turn (the last
    one repeats). Every request is recorded as ``"METHOD path?query"``."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Any] = {}
        self.requests: list[str] = []

    def on(self, method: str, path: str, *answers: Answer) -> None:
        self.routes[(method, path)] = list(answers)

    def _answer(self, method: str, raw_path: str) -> tuple[int, Any]:
        self.requests.append(f"{method} {raw_path}")
        path = urlsplit(raw_path).path
        answers = self.routes.get((method, path))
        if not answers:
            return not_found("path", path)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if callable(answer):
            answer = answer()
        if isinstance(answer, tuple):
            return answer
        return 200, answer

    @contextmanager
    def serve(self) -> Iterator[Any]:
        """A ``kubernetes.client.ApiClient`` pointed at this server."""
        from kubernetes import client

        recorded = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, body = recorded._answer(self.command, self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_DELETE = do_POST = do_PATCH = do_PUT = _reply

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        configuration = client.Configuration(host=f"http://127.0.0.1:{server.server_port}")
        api = client.ApiClient(configuration)
        try:
            yield api
        finally:
            api.close()
            server.shutdown()
            server.server_close()
