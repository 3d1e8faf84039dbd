"""Fixtures: an app built from a plain dict, its client, a mocked provider, and the stores."""

from __future__ import annotations

import functools
import itertools
import os
import threading
import time
import uuid

import mongomock
import pytest

from app.factory import create_app
from app.services.store.mongo import MongoStore
from app.services.store.sqlite import SqliteStore
from tests.cases import (
    ACCOUNT_ID,
    APP_SECRET,
    BASE_URL,
    PHONE_NUMBER_ID,
    TOKEN,
    private_key_pem,
)

OUR_PREFIXES = ("WHATSAPP_", "LLM_", "OPENAI_", "JWT_", "GATEWAY_", "KNOWLEDGE_", "HISTORY_",
                "TRUSTED_PROXY_", "MONGODB_DB", "LOG_LEVEL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Tests see only the settings they pass (MONGODB_URI alone may come from outside)."""
    for name in list(os.environ):
        if name.startswith(OUR_PREFIXES):
            monkeypatch.delenv(name)


def _one_at_a_time(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with MONGOMOCK_LOCK:
            return method(*args, **kwargs)
    return locked


# A MongoDB server applies each write atomically; mongomock, in the test's threads, does not
# (two racing `$inc`s can read the same value). Its writes take turns, as the server's do.
MONGOMOCK_LOCK = threading.RLock()
for _name in ("insert_one", "update_one", "update_many", "find_one_and_update", "delete_one",
              "delete_many", "replace_one", "find_one", "count_documents", "create_index"):
    setattr(mongomock.Collection, _name, _one_at_a_time(getattr(mongomock.Collection, _name)))


@pytest.fixture
def mongo_client():
    """mongomock, or the real server at MONGODB_URI; each test gets its own database."""
    uri = os.environ.get("MONGODB_URI")
    if not uri:
        yield mongomock.MongoClient(tz_aware=True)
        return
    from pymongo import MongoClient

    client = MongoClient(uri, serverSelectionTimeoutMS=5000, tz_aware=True)
    yield client
    for name in client.list_database_names():
        if name.startswith("gateway_test_"):
            client.drop_database(name)
    client.close()


def fresh_db_name() -> str:
    """A database name of our own, dropped after the run."""
    return f"gateway_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["sqlite", "mongodb"])
def store(request, tmp_path):
    """Each store implementation, schema ensured, for the shared contract tests."""
    if request.param == "sqlite":
        store = SqliteStore(str(tmp_path / "gateway.sqlite3"))
    else:
        store = MongoStore(request.getfixturevalue("mongo_client"), fresh_db_name())
    store.ensure_schema()
    yield store
    store.close()


@pytest.fixture(scope="session")
def private_key_path(tmp_path_factory) -> str:
    """An RSA private key file, as a Vonage application has (made once per run)."""
    path = tmp_path_factory.mktemp("vonage") / "private.key"
    path.write_text(private_key_pem())
    return str(path)


@pytest.fixture
def config(tmp_path, private_key_path) -> dict:
    """Every setting a fully configured gateway has, as `create_app` takes them."""
    config = {
        "WHATSAPP_PRIVATE_KEY_PATH": private_key_path,
        "GATEWAY_DB_PATH": str(tmp_path / "gateway.sqlite3"),
        "WHATSAPP_API_BASE_URL": BASE_URL,
        "WHATSAPP_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_ACCOUNT_ID": ACCOUNT_ID,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": "verify-me",
        "JWT_SECRET": "jwt-secret-for-tests-0123456789abcdef",
        "WHATSAPP_SWEEP_SECONDS": "0",  # tests sweep when they mean to
        "GUNICORN_THREADS": "32",  # the test client's threads all may read bodies at once
    }
    if os.environ.get("MONGODB_URI"):
        config["MONGODB_DB"] = fresh_db_name()
    return config


@pytest.fixture
def make_app(config):
    """Build apps from `config` plus overrides; their stores are closed afterwards."""
    apps = []

    def make(**overrides):
        app = create_app({**config, **overrides})
        app.extensions["schema"].probe_seconds = 0.05  # an outage ends as soon as it can
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["dispatcher"].stop(timeout=5)
        app.extensions["schema"].close()
        app.extensions["store"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="module")
def fake():
    """The fake provider on 127.0.0.1, one per test module (end-to-end tests)."""
    from tests.fake_provider import FakeProvider

    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def requests_mock(requests_mock):
    """requests-mock's fixture, the providers' health checks answered as a working account's
    are (each test mocks the sends it needs)."""
    requests_mock.get(f"{BASE_URL}/{PHONE_NUMBER_ID}", json={"id": PHONE_NUMBER_ID})
    requests_mock.get(f"{BASE_URL}/2010-04-01/Accounts/{ACCOUNT_ID}.json",
                      json={"sid": ACCOUNT_ID, "status": "active"})
    return requests_mock


@pytest.fixture
def provider(requests_mock):
    """All three providers accept every send, each answering with a fresh message id."""
    ids = itertools.count(1)
    requests_mock.post(f"{BASE_URL}/106540352242922/messages", status_code=200,
                       json=lambda req, ctx: {"messaging_product": "whatsapp",
                                              "messages": [{"id": f"wamid.out{next(ids)}"}]})
    requests_mock.post(f"{BASE_URL}/2010-04-01/Accounts/{ACCOUNT_ID}/Messages.json",
                       status_code=201, json=lambda req, ctx: {"sid": f"SMout{next(ids)}",
                                                               "status": "queued"})
    requests_mock.post(f"{BASE_URL}/messages", status_code=202,
                       json=lambda req, ctx: {"message_uuid": f"out-{next(ids)}"})
    return requests_mock


def store_back(app, timeout: float = 5) -> None:
    """Wait until the app's schema gate has seen the store answer again after an outage."""
    deadline = time.monotonic() + timeout
    while app.extensions["schema"].down_since is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert app.extensions["schema"].down_since is None, "the store never came back"
