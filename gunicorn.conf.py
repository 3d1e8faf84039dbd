"""gunicorn settings. Values come from `app.config` (HOST, PORT, WEB_CONCURRENCY, ...)."""

import logging
import os
import shutil
import sys
import tempfile

from app.config import load_server_settings, load_settings
from app.errors import ConfigError
from app.logs import ACCESS_FORMAT


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


def _metrics_dir() -> str:
    """Where each worker writes its metrics for /metrics to sum (prometheus-client's
    multiprocess mode): PROMETHEUS_MULTIPROC_DIR, emptied, or a fresh temporary folder. Set
    before anything imports prometheus-client."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="gw-metrics-")
    if os.path.isdir(path):  # counts of an earlier run would be added to this one's
        for name in os.listdir(path):
            if name.endswith(".db"):
                os.remove(os.path.join(path, name))
    os.makedirs(path, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


_metrics = _metrics_dir()

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
access_log_format = ACCESS_FORMAT


def _bounded_body_reads() -> None:
    """gunicorn receives a body up to 1 MiB per recv(), into buffers it copies: a forged 4 MiB
    body then leaves megabytes in each thread's malloc arena. Webhook bodies are small, and
    the app reads them 64 KiB at a time (`app.services.bodies`): receive no more at once."""
    from gunicorn.http.unreader import SocketUnreader

    from app.services.bodies import READ_STEP

    SocketUnreader.max_body_chunk = READ_STEP


_bounded_body_reads()


def on_starting(server):
    """Load the bot's models and index in the master: the workers forked from it share their
    pages. Documents that cannot be used stop the master with the reason, not every worker."""
    from app import logs
    from app.factory import announce
    from app.services.models import preload

    logs.configure(_app_settings.log_level, _app_settings.log_format)
    announce(_app_settings)  # once, here: the workers forked from this process stay quiet
    logs.announced = True
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


def child_exit(server, worker):
    """A worker's live gauges end with it (its counters still count)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """A folder we made for the metrics goes with the master."""
    if os.path.basename(_metrics).startswith("gw-metrics-"):
        shutil.rmtree(_metrics, ignore_errors=True)


def worker_exit(server, worker):
    """On a graceful stop, let answers in progress finish; queued ones stay for other workers.

    Then a worker that booted leaves at once: tearing down its interpreter touches every
    object of the models it shares with the master (copying their pages) and held each stop
    about a second. What it wrote is committed; its logs are flushed first."""
    app = getattr(worker, "wsgi", None)
    dispatcher = getattr(app, "extensions", {}).get("dispatcher")
    if dispatcher is not None:
        dispatcher.stop(timeout=max(1, graceful_timeout - 5))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
