"""A fake WhatsApp provider on 127.0.0.1: accepts sends for all three dialects and records them.

It also answers `POST /v1/chat/completions` like an OpenAI-compatible LLM ("re: <question>"),
after `llm_delay` seconds, so tests and benchmarks can make the bot as slow as they need.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeProvider:
    """Serves Cloud API, Twilio and generic send endpoints; `sent` lists what arrived."""

    def __init__(self, port: int = 0, llm_delay: float = 0.0, reject_credentials: bool = False):
        self.sent: list[dict] = []
        # Health checks (GET) answer 401, as for a revoked token, when this is set.
        self.reject_credentials = reject_credentials
        self.health_checks: list[str] = []
        self.llm_requests: list[list[dict]] = []
        self.llm_delay = llm_delay
        self.refusals: list[tuple[int, dict, dict]] = []
        self.refused: list[str] = []
        self.receipts: list[dict] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def drop_next(self) -> None:
        """Close the connection of the next send without answering (a connection error)."""
        with self._lock:
            self.refusals.append((0, {}, {}))

    def refuse_next(self, status: int, body: dict, headers: dict | None = None) -> None:
        """Answer the next send (not a read receipt) with this error instead of accepting it."""
        with self._lock:
            self.refusals.append((status, body, headers or {}))

    def wait_for(self, count: int, to: str | None = None, timeout: float = 10.0) -> list[dict]:
        """The sends (to a recipient containing `to`), once `count` arrived or time ran out."""
        deadline = time.monotonic() + timeout
        while True:
            sent = [s for s in self.sent if to is None or to in s["to"]]
            if len(sent) >= count or time.monotonic() > deadline:
                return sent
            time.sleep(0.02)

    def _complete(self, body: bytes) -> dict:
        messages = json.loads(body)["messages"]
        with self._lock:
            self.llm_requests.append(messages)
        time.sleep(self.llm_delay)
        question = messages[-1]["content"]
        return {"id": f"chatcmpl-{next(self._ids)}", "object": "chat.completion",
                "created": int(time.time()), "model": "fake",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": f"re: {question}"}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

    def _record(self, path: str, headers, body: bytes) -> tuple[int, dict, dict]:
        if path.endswith("/chat/completions"):
            return 200, self._complete(body), {}
        if b'"status": "read"' in body or b'"status":"read"' in body:
            with self._lock:
                self.receipts.append(json.loads(body))
            return 200, {"success": True}, {}
        with self._lock:
            if self.refusals:
                status, reply, extra = self.refusals.pop(0)
                self.refused.append(path)
                return status, reply, extra
        if "/Accounts/" in path:
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            entry = {"dialect": "twilio", "to": form["To"], "text": form["Body"],
                     "id": f"SM{next(self._ids):032d}"}
            reply = {"sid": entry["id"], "status": "queued"}
        elif path.endswith("/messages") and path.count("/") == 1:
            data = json.loads(body)
            # Vonage authorizes with an application JWT (three dotted parts), generic with a token.
            bearer = (headers.get("Authorization") or "").partition(" ")[2]
            entry = {"dialect": "vonage" if bearer.count(".") == 2 else "generic",
                     "to": data["to"], "text": data["text"], "id": f"uuid-{next(self._ids)}"}
            reply = {"message_uuid": entry["id"]}
        else:
            data = json.loads(body)
            # A person known only by a business-scoped user id is sent to as `recipient`.
            entry = {"dialect": "cloud_api", "to": data.get("to") or data["recipient"],
                     "text": data["text"]["body"],
                     "id": f"wamid.fake{next(self._ids)}"}
            reply = {"messaging_product": "whatsapp", "messages": [{"id": entry["id"]}]}
        # The scheme only (Bearer, Basic): a credential never reaches a log, even a fake one.
        entry.update(path=path, auth=(headers.get("Authorization") or "none").split(" ")[0],
                     at=time.monotonic())
        with self._lock:
            self.sent.append(entry)
        return 200, reply, {}

    def _check(self, path: str) -> tuple[int, dict]:
        with self._lock:
            self.health_checks.append(path)
        if self.reject_credentials:
            return 401, {"error": {"message": "Error validating access token", "code": 190},
                         "code": 20003, "message": "Authenticate"}
        return 200, {"id": path.rsplit("/", 1)[-1].split("?")[0], "status": "active"}

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as a real provider's API: a client reuses its connection.
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stall

            def do_GET(self):  # noqa: N802 (http.server's name)
                status, answer = provider._check(self.path)
                reply = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer, headers = provider._record(self.path, self.headers, body)
                if status == 0:  # dropped: the client sees the connection end, no answer
                    self.close_connection = True
                    return
                reply = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        return Handler


def main() -> None:
    """`python -m tests.fake_provider [PORT]`: serve and print every send, for manual QA."""
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    with FakeProvider(port) as provider:
        print(f"fake provider on {provider.url}", flush=True)
        shown = 0
        try:
            while True:
                for entry in provider.sent[shown:]:
                    print(json.dumps(entry, ensure_ascii=False), flush=True)
                shown = len(provider.sent)
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
