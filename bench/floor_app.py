"""The ack path's two requirements and nothing else, as the floor of what it can cost: verify
the Cloud API signature, load the body with the gateway's own marshmallow schema, insert each
message into SQLite (WAL, synchronous=NORMAL, as the gateway's store) before the 200.

No session, metrics, log line, body limit or provider check: no gateway can be cheaper than
this while it validates with marshmallow and stores before it acknowledges. Served by
`make bench` under the same gunicorn config as the other apps. `FLOOR_DB`: the SQLite file.
"""

import hashlib
import hmac
import os
import sqlite3
import tempfile
import threading

from flask import Flask, request

from bench.webhook import PATH, SECRET
from dialects.base import InboundMessage, WebhookRequest
from dialects.registry import BY_NAME

app = Flask(__name__)
CLOUD_API = BY_NAME["cloud_api"]
DATABASE = os.environ.get("FLOOR_DB") or os.path.join(tempfile.mkdtemp(), "floor.sqlite3")
_local = threading.local()


def _connection() -> sqlite3.Connection:
    """This thread's connection (opened after gunicorn forks)."""
    conn = getattr(_local, "conn", None)
    if conn is None or _local.pid != os.getpid():
        conn = sqlite3.connect(DATABASE, timeout=5, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS messages (key TEXT PRIMARY KEY, wa_id TEXT, "
                     "kind TEXT, content TEXT)")
        _local.conn, _local.pid = conn, os.getpid()
    return conn


@app.post(PATH)
def webhook():
    """Verify, load, store, acknowledge."""
    body = request.get_data()
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
        return "", 403
    events = CLOUD_API.parse(WebhookRequest(body=body, headers=request.headers))
    conn = _connection()
    for event in events:
        if isinstance(event, InboundMessage):
            conn.execute("INSERT INTO messages VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                         (event.message_id, event.wa_id, event.kind, event.text))
    return "", 200


@app.get("/healthz")
def healthz():
    """What the benchmark polls before it starts."""
    return "ok", 200
