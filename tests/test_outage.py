"""A store outage: refused fast once known, probed in the background, logged once each way."""

from __future__ import annotations

import threading
import time

import pytest
from prometheus_client import REGISTRY

from app.errors import StoreUnavailable
from app.services.store import SchemaGate, _mongo_client
from app.services.store.sqlite import SqliteStore
from tests.cases import CloudApiCase, post

PATH = "/api/v1/whatsapp/webhook"


class Flaky:
    """A store whose every call waits `delay` and fails while `down` is set."""

    def __init__(self, delay: float = 0.0):
        self.down, self.delay, self.calls = threading.Event(), delay, 0

    def ensure_schema(self):
        self.ping()

    def ping(self):
        self.calls += 1
        time.sleep(self.delay)
        if self.down.is_set():
            raise StoreUnavailable("server at 10.0.0.9 unreachable")


def test_once_known_down_requests_are_refused_at_once_until_a_ping_answers(caplog):
    store = Flaky(delay=0.5)
    gate = SchemaGate(store, probe_seconds=0.3)
    store.down.set()
    errors = REGISTRY.get_sample_value("whatsapp_store_errors_total") or 0
    with pytest.raises(StoreUnavailable):
        gate.ensure()  # the first request waits for the store's own timeout
    assert REGISTRY.get_sample_value("whatsapp_store_errors_total") == errors + 1
    calls = store.calls
    for _ in range(20):
        with pytest.raises(StoreUnavailable):
            gate.ensure()  # refused without waiting on the store: it is not even called
    assert store.calls - calls <= 1  # the background probe may have pinged once meanwhile
    # Refused without asking the store: not one more store error.
    assert REGISTRY.get_sample_value("whatsapp_store_errors_total") == errors + 1
    store.down.clear()
    deadline = time.monotonic() + 5
    while gate.down_since is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    gate.ensure()
    lines = [r.getMessage() for r in caplog.records if "10.0.0.9" in r.getMessage()]
    assert len(lines) == 2 and lines[0].startswith("store down") and "store back" in lines[1]


def test_a_closed_gate_stops_probing_a_store_that_is_down():
    """An app torn down while its store is down leaves no thread pinging it (and logging
    reminders) for the rest of the process's life."""
    store = Flaky()
    store.down.set()
    gate = SchemaGate(store, probe_seconds=0.05)
    with pytest.raises(StoreUnavailable):
        gate.ensure()
    deadline = time.monotonic() + 5
    while store.calls < 3 and time.monotonic() < deadline:  # the probe pings
        time.sleep(0.01)
    gate.close()
    time.sleep(0.1)
    calls = store.calls
    time.sleep(0.3)
    assert store.calls == calls


def test_concurrent_requests_do_not_queue_behind_the_schema():
    store = Flaky(delay=1.0)
    store.down.set()
    gate, times = SchemaGate(store, probe_seconds=60), []

    def request():
        started = time.monotonic()
        try:
            gate.ensure()
        except StoreUnavailable:
            times.append(time.monotonic() - started)

    threads = [threading.Thread(target=request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(times) == 6 and sorted(times)[-2] < 0.5  # only one waited for the store
    gate.close()


def test_readyz_reports_a_write_locked_sqlite_file_within_a_second(app, client, config):
    blocker = SqliteStore(config["GATEWAY_DB_PATH"])
    with blocker.transaction():
        started = time.monotonic()
        response = client.get("/readyz")
        took = time.monotonic() - started
    assert (response.status_code, response.json["store"]) == (503, "down")
    assert took < 2  # the probe waits 0.9 s at most; the rest is this machine's load
    blocker.close()


def test_a_locked_store_answers_503_and_logs_no_traceback(make_app, config, provider, caplog):
    app = make_app(GATEWAY_DB_TIMEOUT="0.2")
    app.extensions["schema"].probe_seconds = 60
    client, case = app.test_client(), CloudApiCase()
    blocker = SqliteStore(config["GATEWAY_DB_PATH"])
    with blocker.transaction():
        codes = [post(client, case, case.text(message_id=f"m{n}"), wait=False).status_code
                 for n in range(5)]
    assert codes == [503] * 5
    assert "Traceback" not in caplog.text
    assert sum("store down" in r.getMessage() for r in caplog.records) == 1
    blocker.close()


def test_the_uris_own_timeouts_win():
    client = _mongo_client("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500")
    assert client.options.server_selection_timeout == 0.5
    assert _mongo_client("mongodb://127.0.0.1:1/").options.server_selection_timeout == 5
