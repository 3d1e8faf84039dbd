"""No attacker-controlled value can start a log line or pass for another field."""

from __future__ import annotations

import json
import logging
import re

import pytest

from app.logs import SafeFormatter, escaped, quoted
from tests.cases import CloudApiCase, post


def line(message: str, *args) -> str:
    record = logging.LogRecord("gateway", logging.INFO, __file__, 1, message, args, None)
    return SafeFormatter("%(levelname)s %(message)s").format(record)


@pytest.mark.parametrize("value", [
    "x\nINFO forged line", "x\r\nINFO forged", "x\u2028INFO forged", "x\x1b[31mred",
    "x\x85next", "1 status=failed",
])
def test_a_value_stays_one_value_on_one_line(value):
    written = line("status wa_id=%s status=%s", value, "delivered")
    assert "\n" not in written and "\r" not in written and "\u2028" not in written
    assert "\x1b" not in written and "\x85" not in written
    assert fields(written) == {"wa_id": value, "status": "delivered"}


def fields(written: str) -> dict:
    """The `key=value` fields of a line, as a log reader parses them."""
    return {key: json.loads(value) if value.startswith('"') else value
            for key, value in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', written)}


def test_plain_values_are_written_as_they_are():
    assert line("inbound wa_id=%s chars=%d", "34600000001", 18) == (
        "INFO inbound wa_id=34600000001 chars=18")
    assert quoted("wamid.HBgL") == "wamid.HBgL" and escaped("a\tb") == "a\\tb"


def test_a_traceback_keeps_its_lines():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("gateway", logging.ERROR, __file__, 1, "failed %s", ("x",),
                                   sys.exc_info())
    written = SafeFormatter("%(message)s").format(record)
    assert written.startswith("failed x\nTraceback") and "ValueError: boom" in written


def test_a_forged_handshake_line_is_escaped(client, caplog):
    forged = "subscribe\n2026-11-25 10:00:00,000 INFO [1] app: webhook verified"
    client.get("/api/v1/whatsapp/webhook", query_string={"hub.mode": forged})
    [record] = [r for r in caplog.records if "verification refused" in r.getMessage()]
    assert "\n" not in SafeFormatter("%(message)s").format(record)


def test_a_forged_wa_id_stays_inside_its_field(make_app, provider, caplog):
    client = make_app(WHATSAPP_APP_SECRET="", WHATSAPP_SIGNATURE_MODE="off").test_client()
    case = CloudApiCase()
    payload = case.text("hola", wa_id="34600000001\nINFO forged=1")
    post(client, case, payload, signed=False)
    written = [SafeFormatter("%(message)s").format(r) for r in caplog.records]
    assert written and not any("\n" in w for w in written if not w.startswith("Traceback"))


@pytest.mark.parametrize("access_format", ["ours", "gunicorn's default"])
def test_the_access_log_escapes_a_decoded_path(access_format):
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from app.logs import ACCESS_FORMAT, GunicornLogger

    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/healthz%0D%0Ax",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
               "PATH_INFO": '/healthz\r\n10.0.0.9 "POST /x HTTP/1.1" 200'}
    response = SimpleNamespace(status="404 NOT FOUND", sent=10, headers=[])
    config = Config()
    if access_format == "ours":
        config.set("access_log_format", ACCESS_FORMAT)
    atoms = GunicornLogger(config).atoms(response, SimpleNamespace(headers=[]), environ,
                                         timedelta(milliseconds=3))
    assert (atoms["s"], atoms["b"], atoms["M"]) == ("404", "10", 3)
    assert "\r" not in atoms["U"] and "\n" not in atoms["U"] and "\\r\\n10.0.0.9" in atoms["U"]
