"""Log lines nobody can forge: every value is escaped before it is written.

A webhook is public, so a value in a log line may be an attacker's: `?hub.mode=x%0A<a fake
line>`, a `wa_id` of "1 status=failed". Each line of the app's log is one `key=value` record:
a value holding whitespace, `=`, a quote or a control character is written JSON-quoted (so
"1 status=failed" stays one value), and no control character or line separator survives in
the line itself. gunicorn's access log gets the same treatment through `GunicornLogger`.
"""

from __future__ import annotations

import json
import logging
import re

from gunicorn.glogging import Logger

NEEDS_QUOTES = re.compile(r'[\s="\\]|[\x00-\x1f\x7f-\x9f\u2028\u2029]')
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"


def quoted(value: object) -> object:
    """A string that could pass for several fields or lines, JSON-quoted; others as they are."""
    if isinstance(value, str) and NEEDS_QUOTES.search(value):
        return CONTROL.sub(_escape, json.dumps(value, ensure_ascii=False))
    return value


def escaped(text: str) -> str:
    """`text` with every control character and line separator written as an escape."""
    return CONTROL.sub(_escape, text)


def _escape(match: re.Match) -> str:
    return json.dumps(match.group())[1:-1] if ord(match.group()) < 0x80 else (
        f"\\u{ord(match.group()):04x}")


class SafeFormatter(logging.Formatter):
    """Quotes the arguments of every record and escapes what is left of its message; a
    traceback, which follows the message, keeps its lines."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line (plus its traceback, if any)."""
        if isinstance(record.args, tuple):
            record.args = tuple(quoted(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: quoted(arg) for key, arg in record.args.items()}
        return super().format(record)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        """The line, its message escaped."""
        record.message = escaped(record.message)
        return super().formatMessage(record)


def configure(level: str) -> None:
    """Every record of the process through one `SafeFormatter` on stderr, at `level`."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, SafeFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(SafeFormatter(FORMAT))
        root.addHandler(handler)
    root.setLevel(level)


class GunicornLogger(Logger):
    """gunicorn's logger, its access-log values escaped (the path is decoded: `%0A` in a URL
    would otherwise start a new, forged, access line)."""

    def atoms(self, resp, req, environ, request_time):
        """gunicorn's atoms, each string escaped."""
        return {key: escaped(value) if isinstance(value, str) else value
                for key, value in super().atoms(resp, req, environ, request_time).items()}
