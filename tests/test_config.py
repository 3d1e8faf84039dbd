"""Settings: sensible defaults, and a clear error naming the variable for a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from app.config import load_server_settings, load_settings
from app.errors import ConfigError
from app.factory import create_app
from tests.server import ROOT


def test_defaults_need_nothing():
    settings = load_settings({})
    assert settings.mongodb_uri is None
    assert settings.gateway_db_path == "var/gateway.sqlite3"
    assert (settings.whatsapp_provider, settings.whatsapp_signature_mode) == (None, "off")
    assert (settings.replies, settings.default_language) == ({}, "es")
    assert (settings.llm_provider, settings.embeddings_provider) == ("offline", "offline")


def test_fixed_texts_are_overridden_per_language():
    settings = load_settings({"REPLY_NO_ANSWER_EN": " Ask us at shop@example.com ",
                              "WHATSAPP_UNSUPPORTED_REPLY": "Text only.",
                              "REPLY_UNSUPPORTED_ES": "Solo texto."})
    assert settings.replies == {"no_answer": {"en": "Ask us at shop@example.com"},
                                "unsupported": {"es": "Solo texto.", "en": "Text only."}}


@pytest.mark.parametrize("overrides, names", [
    ({"REPLY_GREETING_ES": " "}, "REPLY_GREETING_ES"),
    ({"DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE"),
    ({"EMBEDDINGS_PROVIDER": "openai"}, "OPENAI_API_KEY"),
    ({"LLM_MAX_TOKENS": "0"}, "LLM_MAX_TOKENS"),
])
def test_bot_settings_are_checked(overrides, names):
    with pytest.raises(ConfigError, match=names):
        load_settings(overrides)


def test_the_environment_is_read(monkeypatch):
    monkeypatch.setenv("WHATSAPP_PROVIDER", "twilio")
    monkeypatch.setenv("WHATSAPP_TOKEN", "twilio-auth-token")
    monkeypatch.setenv("WHATSAPP_PHONE_NUMBER_ID", "whatsapp:+14155238886")
    settings = load_settings()
    assert (settings.whatsapp_provider, settings.whatsapp_phone_number_id) == (
        "twilio", "14155238886")


@pytest.mark.parametrize("overrides, mode", [
    ({"WHATSAPP_APP_SECRET": "s"}, "enforce"),
    ({"WHATSAPP_APP_SECRET": "s", "WHATSAPP_SIGNATURE_MODE": "report"}, "report"),
    ({"WHATSAPP_PROVIDER": "twilio", "WHATSAPP_TOKEN": "t"}, "enforce"),
    ({"WHATSAPP_TOKEN": "graph-api-token"}, "enforce"),
    ({"WHATSAPP_PROVIDER": "cloud_api", "WHATSAPP_SIGNATURE_MODE": "off"}, "off"),
    ({}, "off"),
])
def test_signature_mode_defaults_to_enforce_once_a_secret_is_set(overrides, mode):
    assert load_settings(overrides).whatsapp_signature_mode == mode


@pytest.mark.parametrize("overrides", [
    {"WHATSAPP_PROVIDER": "cloud_api", "WHATSAPP_TOKEN": "graph-api-token"},
    {"WHATSAPP_PROVIDER": "twilio", "WHATSAPP_APP_SECRET": "s"},
    {"WHATSAPP_PROVIDER": "generic"},
    {"WHATSAPP_APP_SECRET": " , "},
    {"WHATSAPP_PROVIDER": "cloud_api", "WHATSAPP_SIGNATURE_MODE": "report"},
])
def test_signatures_fail_closed_at_startup(overrides):
    with pytest.raises(ConfigError, match="WHATSAPP_APP_SECRET|WHATSAPP_TOKEN"):
        load_settings(overrides)


def test_several_app_secrets_for_rotation():
    assert load_settings({"WHATSAPP_APP_SECRET": " new , old ,"}).whatsapp_app_secrets == (
        "new", "old")


@pytest.mark.parametrize("overrides, named", [
    ({"WHATSAPP_PROVIDER": "telegram"}, "WHATSAPP_PROVIDER"),
    ({"WHATSAPP_SIGNATURE_MODE": "maybe"}, "WHATSAPP_SIGNATURE_MODE"),
    ({"WHATSAPP_SIGNATURE_MODE": "enforce"}, "WHATSAPP_SIGNATURE_MODE"),
    ({"TRUSTED_PROXY_HOPS": "two"}, "TRUSTED_PROXY_HOPS"),
    ({"TRUSTED_PROXY_HOPS": "-1"}, "TRUSTED_PROXY_HOPS"),
    ({"WHATSAPP_API_BASE_URL": "graph.facebook.com"}, "WHATSAPP_API_BASE_URL"),
    ({"WHATSAPP_READ_TIMEOUT": "soon"}, "WHATSAPP_READ_TIMEOUT"),
    ({"LLM_PROVIDER": "openai"}, "OPENAI_API_KEY"),
    ({"LLM_PROVIDER": "gpt"}, "LLM_PROVIDER"),
    ({"JWT_SECRET": "short"}, "JWT_SECRET"),
    ({"MONGODB_URI": "mongodb:/db.internal"}, "MONGODB_URI"),
    ({"MONGODB_URI": "mongodb://gateway:hunter2@"}, "MONGODB_URI"),
])
def test_a_malformed_value_stops_startup_naming_the_variable(overrides, named):
    with pytest.raises(ConfigError, match=named):
        create_app(overrides)


@pytest.mark.parametrize("overrides, secret", [
    ({"JWT_SECRET": "top-secret"}, "top-secret"),
    ({"MONGODB_URI": "mongodb://gateway:hunter2@db.internal:27o17/"}, "hunter2"),
    ({"MONGODB_URI": "mongodb://gate:way:hunter2@db.internal/"}, "hunter2"),
])
def test_secrets_are_not_echoed_in_config_errors(overrides, secret):
    with pytest.raises(ConfigError) as err:
        create_app(overrides)
    assert secret not in str(err.value)


def test_server_settings():
    server = load_server_settings({"PORT": "9000", "WEB_CONCURRENCY": "4"})
    assert (server.host, server.port, server.workers) == ("127.0.0.1", 9000, 4)
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY"):
        load_server_settings({"WEB_CONCURRENCY": "0"})


def test_building_the_app_answers_no_one(make_app, config, provider):
    """`flask shell` and `flask issue-token` build the app: they must not start the sweep
    that answers stored messages (gunicorn starts it in each worker)."""
    from app.services.store.sqlite import SqliteStore

    store = SqliteStore(config["GATEWAY_DB_PATH"])
    store.ensure_schema()
    conversation, seq = store.sessions.arrive("34600000001", None, None)
    store.messages.add_inbound(conversation, seq, "hola", kind="text", status="queued",
                               dialect="cloud_api", wa_id="34600000001",
                               provider_message_id="wamid.queued")
    app = make_app(WHATSAPP_SWEEP_SECONDS="0.05", JWT_SECRET="x" * 32)
    result = app.test_cli_runner().invoke(args=["issue-token", "--subject", "qa"])
    time.sleep(0.3)
    assert result.exit_code == 0
    assert "sweep" not in [thread.name for thread in threading.enumerate()]
    assert store.messages.answer_for(store.messages.list(conversation, 1)[0].id) is None


def test_every_bad_setting_is_reported_at_once_in_a_few_lines():
    bad = {"TRUSTED_PROXY_HOPS": "two", "LOG_LEVEL": "loud", "WHATSAPP_PROVIDER": "telegram",
           "WHATSAPP_READ_TIMEOUT": "-1", "HISTORY_LIMIT": "many", "LLM_PROVIDER": "claude",
           "WHATSAPP_API_BASE_URL": "ftp://x", "JWT_SECRET": "short",
           "WHATSAPP_SEND_ATTEMPTS": "0", "BACKGROUND_THREADS": "0", "E5_THREADS": "none"}
    with pytest.raises(ConfigError) as refused:
        load_settings(bad)
    lines = refused.value.message.splitlines()
    assert len(lines) <= 15
    for name, value in bad.items():
        assert any(name in line and value.lstrip("-") in line for line in lines), name


def test_choices_ignore_case():
    settings = load_settings({"LOG_LEVEL": "info", "WHATSAPP_PROVIDER": "Twilio",
                              "WHATSAPP_TOKEN": "t"})
    assert (settings.log_level, settings.whatsapp_provider) == ("INFO", "twilio")


def test_gunicorn_stops_in_the_master_with_one_short_message(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "LOG_"))},
           "PORT": "x", "WEB_CONCURRENCY": "0", "LOG_LEVEL": "loud", "LLM_PROVIDER": "claude"}
    done = subprocess.run([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                           "wsgi:app"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    for name in ("PORT", "WEB_CONCURRENCY", "LOG_LEVEL", "LLM_PROVIDER"):
        assert name in done.stderr
    assert len(done.stderr.splitlines()) < 15
