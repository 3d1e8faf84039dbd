"""Prometheus metrics, summed over every gunicorn worker.

Under gunicorn, `gunicorn.conf.py` points `PROMETHEUS_MULTIPROC_DIR` at a fresh folder before
anything imports prometheus-client: each worker then writes its counts to its own files there,
and whichever worker answers `GET /metrics` adds them all up. What the store knows (messages
waiting, providers' readiness) is read from the store when scraped, so it counts once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

INBOUND = Counter("whatsapp_inbound_messages", "Messages people sent, stored once each.",
                  ["dialect", "kind"])
DUPLICATES = Counter("whatsapp_inbound_duplicates",
                     "Messages a provider sent again, recognised and ignored.", ["dialect"])
STATUSES = Counter("whatsapp_delivery_statuses", "Delivery statuses received for our messages.",
                   ["dialect", "status"])
ANSWERS = Counter("whatsapp_answers",
                  "Our messages by how their sending ended: sent, failed or not_sent (no "
                  "credentials); held counts messages left to an operator.",
                  ["dialect", "kind", "outcome", "error_kind"])
RETRIES = Counter("whatsapp_send_retries", "Sends tried again after a retryable refusal.",
                  ["dialect", "error_kind"])
STORE_ERRORS = Counter("whatsapp_store_errors", "Times the store was found unreachable.")
ANSWER_LATENCY = Histogram(
    "whatsapp_answer_latency_seconds",
    "From the person's message being stored to the provider accepting the last part of the "
    "answer.", ["dialect"], buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300))
BOT_REPLIES = Counter("whatsapp_bot_replies",
                      "The bot's replies by outcome: answer (from the documents), no_answer, "
                      "small_talk, handoff, or fallback (the bot failed).", ["outcome"])
BOT_LATENCY = Histogram(
    "whatsapp_bot_latency_seconds", "Time the bot took to compose an answer.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))


class StoreCollector:
    """Gauges read from the store at scrape time: the same for every worker."""

    def __init__(self, queued: Callable[[], int], providers: Callable[[], dict[str, str]]):
        self.queued = queued
        self.providers = providers

    def collect(self) -> Iterable[Metric]:
        """Messages waiting for an answer, and 1 for each provider that is ready."""
        queued = GaugeMetricFamily("whatsapp_queued_messages",
                                   "Messages people sent that still wait for an answer.")
        queued.add_metric([], self.queued())
        yield queued
        ready = GaugeMetricFamily("whatsapp_provider_ready",
                                  "1 when the provider accepts our credentials, else 0.",
                                  labels=["provider", "state"])
        for name, state in self.providers().items():
            ready.add_metric([name, state], 1.0 if state == "ok" else 0.0)
        yield ready


def render(store_collector: StoreCollector | None) -> bytes:
    """Every metric in the text format: the counters of all workers, then the store's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    text = generate_latest(registry)
    if store_collector is not None:
        extra = CollectorRegistry(auto_describe=False)
        extra.register(store_collector)
        text += generate_latest(extra)
    return text
