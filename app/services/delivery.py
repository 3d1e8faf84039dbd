"""Getting a stored answer to the person: window, parts, safe retries, read receipts, typing."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from app import metrics
from app.services.formatter import format_text
from app.services.store import Message, Session, Store
from app.services.store.base import SendError, utcnow
from dialects.client import ProviderClient, SendResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard to try, and what to show the person while the bot thinks."""

    max_attempts: int = 4
    retry_base: float = 1.0
    retry_cap: float = 30.0
    window: timedelta = timedelta(hours=24)
    read_receipts: bool = True
    typing: bool = True
    typing_refresh: float = 20.0


def retry_delay(attempt: int, retry_after: float | None, base: float, cap: float,
                rand: Callable[[], float] = random.random) -> float:
    """The provider's `Retry-After` when it gave one, else full-jitter exponential backoff;
    never more than `cap` seconds."""
    if retry_after is not None:
        return min(cap, retry_after)
    return min(cap, base * 2 ** (attempt - 1)) * rand()


class Outbox:
    """Sends an answer's parts through the dialect's client and records every outcome."""

    def __init__(self, store: Store, clients: Mapping[str, ProviderClient],
                 limits: Mapping[str, int], policy: DeliveryPolicy = DeliveryPolicy(),
                 sleep: Callable[[float], None] = time.sleep):
        self.store = store
        self.clients = clients
        self.limits = limits
        self.policy = policy
        self.sleep = sleep
        self._checked: dict[str, float] = {}  # when each dialect's rejection was looked up

    def deliver(self, inbound: Message, answer: Message) -> None:
        """Send what is left of the answer. A part whose send was interrupted may have reached
        the provider, so it is never sent again; a refused part is retried only when the
        provider cannot have accepted it."""
        messages = self.store.messages
        if answer.send_state == "sending":
            log.error("send interrupted dialect=%s to=%s answer=%s part=%d: the provider may "
                      "have it, so it is not sent again", inbound.dialect, inbound.wa_id,
                      answer.id, answer.parts_sent + 1)
            error = SendError("transient", "send_interrupted",
                              "a send was interrupted; delivery unknown")
            messages.update_send(answer.id, "failed", answer.parts_sent,
                                 answer.provider_message_ids, error)
            self._failed(answer, error)
            return
        if answer.send_state != "pending":
            return
        if answer.kind == "skipped" or self.window_closed(inbound):
            self._expire(inbound, answer)
            return
        self._send_parts(inbound, answer, format_text(answer.content,
                                                      self.limits[inbound.dialect]))

    def _expire(self, inbound: Message, answer: Message) -> None:
        """Record that the answer will not be sent: the 24-hour window has closed."""
        error = SendError("window_closed", "window_closed",
                          "more than 24 hours since the person's last message")
        self.store.messages.update_send(answer.id, "failed", answer.parts_sent,
                                        answer.provider_message_ids, error)
        self._failed(answer, error)
        log.warning("not sent dialect=%s to=%s in_reply_to=%s kind=%s: 24-hour window closed",
                    inbound.dialect, inbound.wa_id, inbound.provider_message_id, answer.kind)

    def window_closed(self, inbound: Message, session: Session | None = None) -> bool:
        """Whether more than 24 hours passed since the person last wrote (provider's time);
        `session` is the person's, when the caller has just read it."""
        session = session or self.store.sessions.find_by_wa_id(inbound.wa_id)
        last = session.last_inbound_at if session else None
        return last is not None and utcnow() - last > self.policy.window

    def _send_parts(self, inbound: Message, answer: Message, parts: list[str]) -> None:
        ids, sent, attempts = list(answer.provider_message_ids), answer.parts_sent, answer.attempts
        tries = 0
        while sent < len(parts):
            if not self.store.messages.claim_send(answer.id, sent):
                log.warning("send skipped answer=%s part=%d: another worker is sending it",
                            answer.id, sent + 1)
                return
            attempts, tries = attempts + 1, tries + 1
            result = self.clients[inbound.dialect].send_text(inbound.wa_id, parts[sent],
                                                             inbound.business_number)
            retry = (not result.accepted and result.retryable
                     and tries < self.policy.max_attempts)
            attempt = {"type": "attempt", "at": utcnow(), "part": sent + 1, "parts": len(parts),
                       "accepted": result.accepted, "http_status": result.http_status,
                       "provider_message_id": result.message_id, "error_kind": result.kind,
                       "error_code": result.error_code, "error_message": result.error_message,
                       "retry": retry}
            if result.accepted:
                self._credentials_work(inbound.dialect)
                sent, tries = sent + 1, 0
                ids += [result.message_id] if result.message_id else []
                self.store.messages.update_send(answer.id, "sent" if sent == len(parts)
                                                else "pending", sent, ids, attempts=attempts,
                                                event=attempt)
                continue
            error = SendError(result.kind, result.error_code, result.error_message)
            if result.kind == "auth":
                self.store.providers.record_auth_failure(inbound.dialect, error)
            state = "pending" if retry else (
                "not_sent" if result.kind == "not_configured" else "failed")
            self.store.messages.update_send(answer.id, state, sent, ids, error, attempts,
                                            event=attempt)
            self._log_failure(inbound, result, sent + 1, len(parts), tries, retry)
            if retry:
                metrics.RETRIES.labels(answer.dialect, result.kind or "").inc()
            elif state == "not_sent":
                metrics.ANSWERS.labels(answer.dialect, answer.kind, "not_sent",
                                       result.kind or "").inc()
                return
            else:
                self._failed(answer, error)
                return
            self.sleep(retry_delay(tries, result.retry_after, self.policy.retry_base,
                                   self.policy.retry_cap))
        latency = (utcnow() - inbound.created_at).total_seconds()
        metrics.ANSWERS.labels(answer.dialect, answer.kind, "sent", "").inc()
        if answer.kind == "answer":
            metrics.ANSWER_LATENCY.labels(answer.dialect).observe(latency)
        log.info("reply dialect=%s to=%s in_reply_to=%s kind=%s parts=%d attempts=%d "
                 "latency_ms=%d ids=%s", inbound.dialect, inbound.wa_id,
                 inbound.provider_message_id, answer.kind, len(parts), attempts,
                 latency * 1000, ",".join(ids))

    def _failed(self, answer: Message, error: SendError) -> None:
        """An answer that will not arrive: counted, and its conversation flagged for a
        person."""
        metrics.ANSWERS.labels(answer.dialect, answer.kind, "failed", error.kind or "").inc()
        self.store.sessions.flag(answer.conversation_id, "failed_answer")

    def _credentials_work(self, dialect: str) -> None:
        """A send went through: clear a rejection some worker recorded (looked up at most
        once a second per dialect: sends are many, rejections rare)."""
        now = time.monotonic()
        if now - self._checked.get(dialect, -1.0) < 1.0:
            return
        self._checked[dialect] = now
        if dialect in self.store.providers.auth_failures():
            self.store.providers.clear_auth_failure(dialect)
            log.info("%s credentials accepted again", dialect)

    @staticmethod
    def _log_failure(inbound: Message, result: SendResult, part: int, parts: int, tries: int,
                     retry: bool) -> None:
        # Sending disabled by configuration was announced at startup: a warning, not an error.
        quiet = retry or result.kind == "not_configured"
        log.log(logging.WARNING if quiet else logging.ERROR,
                "send failed dialect=%s to=%s part=%d/%d attempt=%d kind=%s error_code=%s "
                "http=%s: %s%s", inbound.dialect, inbound.wa_id, part, parts, tries,
                result.kind, result.error_code, result.http_status, result.error_message,
                " (will retry)" if retry else "")

    @contextmanager
    def presence(self, inbound: Message, instant: bool = False) -> Iterator[None]:
        """While the bot answers: mark the message read and show "typing...", refreshed before
        it expires. Best-effort: a failed receipt never stops the answer, and none is sent
        after it.

        The receipt goes out beside the bot, from a thread of its own, so that it costs an LLM
        answer no time. An `instant` bot (in process, milliseconds) is done long before the
        receipt's round trip: the receipt is sent first, from the answering thread, and a
        thread per answer is not worth starting.
        """
        policy, client = self.policy, self.clients[inbound.dialect]
        if (not (policy.read_receipts or policy.typing) or not client.read_receipts
                or not inbound.provider_message_id):
            yield
            return

        def mark() -> None:
            result = client.mark_read(inbound.provider_message_id, inbound.business_number,
                                      typing=policy.typing)
            if not result.accepted and result.kind != "not_configured":
                log.warning("read receipt failed dialect=%s message_id=%s kind=%s error_code=%s "
                            "http=%s: %s (best-effort; the answer goes on)", inbound.dialect,
                            inbound.provider_message_id, result.kind, result.error_code,
                            result.http_status, result.error_message)

        if instant:
            mark()
            yield
            return
        stop = threading.Event()

        def keep_typing() -> None:
            mark()
            while policy.typing and not stop.wait(policy.typing_refresh):
                mark()

        thread = threading.Thread(target=keep_typing, name="typing", daemon=True)
        thread.start()  # the bot starts at once; the receipt goes out beside it
        try:
            yield
        finally:
            stop.set()
            # Wait out a receipt in flight (bounded by the client's timeout): "read" or
            # "typing..." arriving after the answer would show the person a bot still typing.
            thread.join()
