"""Log lines nobody can forge: every value is escaped before it is written.

A webhook is public, so a value in a log line may be an attacker's: `?hub.mode=x%0A<a fake
line>`, a `wa_id` of "1 status=failed". Each line of the app's log is one `key=value` record:
a value holding whitespace, `=`, a quote or a control character is written JSON-quoted (so
"1 status=failed" stays one value), and no control character or line separator survives in
the line itself. gunicorn's access log gets the same treatment through `GunicornLogger`.

`LOG_FORMAT=json` writes each line as one JSON object instead: `ts`, `level`, `logger`, `pid`,
`event` (the words before the first `key=value`), each field, and `detail` (what follows them).
gunicorn's own lines and its access lines take the same form, whichever is chosen.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime

from gunicorn.glogging import Logger

NEEDS_QUOTES = re.compile(r'[\s="\\]|[\x00-\x1f\x7f-\x9f\u2028\u2029]')
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
FIELD = re.compile(r'(?:^|(?<=\s))([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)')
INTEGER = re.compile(r"-?\d{1,15}")
# Fields written as JSON numbers; ids made of digits (a wa_id) stay text.
COUNTS = frozenset({"chars", "parts", "part", "attempts", "attempt", "history", "http",
                    "status", "bytes", "ms", "found", "conversations"})
# What gunicorn's access lines say, as `key=value` fields (the path without its query: Meta's
# handshake carries the verify token in it).
ACCESS_FORMAT = ('access remote=%(h)s method=%(m)s path=%(U)s protocol=%(H)s status=%(s)s '
                 'bytes=%(b)s ms=%(M)s')
# Set in gunicorn's master once it has printed the startup summary; workers forked from it
# inherit it and stay quiet.
announced = False


def quoted(value: object) -> object:
    """A string that could pass for several fields or lines, JSON-quoted; others as they are."""
    if isinstance(value, str) and (NEEDS_QUOTES.search(value) or value.endswith(":")):
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


class JsonFormatter(SafeFormatter):
    """One JSON object per record: the `key=value` fields of its message become keys."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON, its traceback (if any) under `exc`."""
        if isinstance(record.args, tuple):
            record.args = tuple(quoted(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: quoted(arg) for key, arg in record.args.items()}
        message = record.getMessage()
        out = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(
                   timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name,
               "pid": record.process, **parse(message)}
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        # json.dumps escapes what is below U+0020; NEL and the line separators are escaped too.
        return CONTROL.sub(_escape, json.dumps(out, ensure_ascii=False, default=str))


def parse(message: str) -> dict:
    """A `key=value` message as fields: `event` (the words before the first field), each field
    (quoted values decoded, counts and times as numbers), and `detail` (what follows them)."""
    found = list(FIELD.finditer(message))
    if not found:
        return {"event": message}
    out: dict = {"event": message[:found[0].start()].strip().rstrip(":") or "log"}
    for match in found:
        key, value = match.groups()
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        elif value.endswith(":"):  # "wa_id=%s: ..." (a value ending so is quoted)
            value = value[:-1]
        if (key in COUNTS or key.endswith("_ms")) and isinstance(value, str) and (
                INTEGER.fullmatch(value)):
            value = int(value)
        elif value == "None":
            value = None
        out.setdefault(key, value)
    detail = message[found[-1].end():].strip().lstrip(":").strip()
    if detail:
        out["detail"] = detail
    return out


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of `LOG_FORMAT`: `text` (key=value lines) or `json`."""
    return JsonFormatter() if log_format == "json" else SafeFormatter(FORMAT)


def configure(level: str, log_format: str = "text") -> None:
    """Every record of the process through one safe formatter on stderr, at `level`; Python's
    warnings too."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h.formatter, SafeFormatter)]
    if ours:
        ours[0].setFormatter(formatter(log_format))
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter(log_format))
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)


class GunicornLogger(Logger):
    """gunicorn's logger, its lines in the app's format (LOG_FORMAT), with a timestamp on the
    access lines too, and its access-log values escaped (the path is decoded: `%0A` in a URL
    would otherwise start a new, forged, access line)."""

    def setup(self, cfg) -> None:
        """gunicorn's handlers, each given our formatter."""
        super().setup(cfg)
        chosen = formatter(os.environ.get("LOG_FORMAT", "text").strip().lower())
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(chosen)

    def atoms(self, resp, req, environ, request_time):
        """The atoms of the access line, each string escaped: only those of ACCESS_FORMAT
        when it is the format (gunicorn's own builds some sixty, every header and environ
        variable, for each request); all of them for any other format."""
        if self.cfg.access_log_format != ACCESS_FORMAT:
            atoms = super().atoms(resp, req, environ, request_time)
        else:
            status = resp.status
            atoms = {"h": environ.get("REMOTE_ADDR", "-"), "m": environ.get("REQUEST_METHOD"),
                     "U": environ.get("PATH_INFO"), "H": environ.get("SERVER_PROTOCOL"),
                     "s": status.split(None, 1)[0] if isinstance(status, str) else status,
                     "b": str(resp.sent) if getattr(resp, "sent", None) is not None else "-",
                     "M": request_time.seconds * 1000 + request_time.microseconds // 1000}
        return {key: escaped(value) if isinstance(value, str) else value
                for key, value in atoms.items()}
