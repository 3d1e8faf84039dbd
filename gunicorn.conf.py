"""gunicorn settings. Values come from `app.config` (HOST, PORT, WEB_CONCURRENCY, ...)."""

import sys

from app.config import load_server_settings, load_settings
from app.errors import ConfigError


def _settings():
    """Every setting, checked once in the master: a bad one stops it with one short message
    (not a traceback per worker)."""
    problems = []
    for load in (load_server_settings, load_settings):
        try:
            load()
        except ConfigError as err:
            problems.append(err.message)
    if problems:
        print("configuration error:\n" + "\n".join(problems), file=sys.stderr)
        sys.exit(2)
    return load_server_settings(), load_settings()


_server, _app_settings = _settings()

bind = f"{_server.host}:{_server.port}"
workers = _server.workers
threads = _server.threads
worker_class = "gthread"
timeout = _server.timeout
graceful_timeout = _server.graceful_timeout
keepalive = 5
# Each worker builds its own app, store client and bot after the fork: pymongo is not fork-safe.
preload_app = False
accesslog = "-"
errorlog = "-"
# Every value in the access log escaped: a `%0A` in a path cannot forge a line.
logger_class = "app.logs.GunicornLogger"
# The path without its query string: Meta's handshake carries the verify token in it.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


def on_starting(server):
    """Load the bot's models and index in the master: the workers forked from it share their
    pages. Documents that cannot be used stop the master with the reason, not every worker."""
    from app.services.models import preload

    try:
        preload(_app_settings)
    except ConfigError as err:
        print(f"knowledge error: {err.message}", file=sys.stderr)
        sys.exit(2)


def post_worker_init(worker):
    """Start answering in the worker: a serving process is the only one that answers
    customers (a CLI command builds the same app, and must not)."""
    extensions = getattr(worker.wsgi, "extensions", {})
    if "dispatcher" in extensions:  # the benchmark's bare route has none
        extensions["dispatcher"].start()
        extensions["health"].refresh()  # know a rejected token before a customer writes


def worker_exit(server, worker):
    """On a graceful stop, let answers in progress finish; queued ones stay for other workers."""
    app = getattr(worker, "wsgi", None)
    dispatcher = getattr(app, "extensions", {}).get("dispatcher")
    if dispatcher is not None:
        dispatcher.stop(timeout=max(1, graceful_timeout - 5))
