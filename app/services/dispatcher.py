"""Background answering: a bounded pool per process, conversation leases shared by all workers.

A conversation is leased (in the store) to one worker at a time, which answers its queued
messages in arrival order. When the pool is full, a conversation stays stored, and the next
answering thread that finishes while some were left so takes the oldest ones not leased at
once (a burst drains at the pool's speed, not the sweep's). Between sweeps, a worker whose
threads are idle looks every `PICKUP_SECONDS` for such conversations, which another worker
left: a provider's kept-alive connections may bring a whole burst to one worker. A lease
left by a dead worker expires after `lease_seconds`; the sweep, run at start and then
periodically on every worker, hands such conversations (and any left when the pool was full)
to whichever worker leases them first. A message whose answering raised `max_attempts` times
(the store being down aside) is set aside as `failed`, so one bad message never holds its
conversation forever.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from app.errors import StoreUnavailable
from app.services.gateway import MessageHandler
from app.services.store import Message, SchemaGate, Store
from app.services.store.base import utcnow

log = logging.getLogger(__name__)

# How often, between sweeps, a worker with idle answering threads looks for conversations that
# no worker holds: one indexed query a second, and a burst's backlog is shared within one.
PICKUP_SECONDS = 1.0


class Dispatcher:
    """Runs `MessageHandler.process` off the request path, never twice at once per conversation."""

    def __init__(self, store: Store, handler: MessageHandler, schema: SchemaGate, *,
                 threads: int = 8, backlog: int = 64, lease_seconds: float = 120,
                 sweep_seconds: float = 10, max_attempts: int = 5):
        self.store = store
        self.handler = handler
        self.schema = schema
        self.lease = timedelta(seconds=lease_seconds)
        self.sweep_seconds = sweep_seconds
        self.max_attempts = max_attempts
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.threads = threads
        self.capacity = threads + backlog
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="answer")
        # Set when a conversation was left stored because the pool was full.
        self._left: bool = False
        self._slots = threading.BoundedSemaphore(threads + backlog)
        self._active: set[str] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None

    def submit(self, conversation_id: str) -> bool:
        """Queue the conversation for answering; False when it is left to the sweep."""
        if self._stopping.is_set():
            return False
        with self._lock:
            if conversation_id in self._active:
                return True  # the running drain picks the new message up
            if not self._slots.acquire(blocking=False):
                if not self._left:  # once per burst, not once per message
                    log.warning("pool full conversation=%s: left stored; answered as threads "
                                "free up", conversation_id)
                self._left = True
                return False
            self._active.add(conversation_id)
        self._pool.submit(self._run, conversation_id)
        return True

    def _run(self, conversation_id: str) -> None:
        try:
            with self.schema.watch():
                self.drain(conversation_id)
        except StoreUnavailable:  # logged by the schema gate; the sweep retries after it
            pass
        except Exception:  # the message stays queued; the sweep retries it after the lease
            log.exception("answering failed conversation=%s: left for a retry", conversation_id)
        finally:
            with self._lock:
                self._slots.release()
                # Once those waiting here would no longer keep every thread busy: one look at
                # the store per `threads` answers, not one per answer.
                refill = self._left and len(self._active) - 1 <= self.threads
                self._left = self._left and not refill
            if refill:  # before this one counts as done: `wait_idle` sees no gap
                self._refill()
            with self._lock:
                self._active.discard(conversation_id)
                self._idle.notify_all()

    def _refill(self) -> None:
        """Take the oldest conversations left stored, now that a thread is free."""
        try:
            with self.schema.watch():
                self._take_waiting(self.capacity)
        except StoreUnavailable:
            pass  # logged by the schema gate; the sweep takes over
        except Exception:  # a bug here must not end the answering thread's loop
            log.exception("taking more queued conversations failed; the sweep retries")

    def drain(self, conversation_id: str) -> int:
        """Lease the conversation and answer its queued messages in order; how many."""
        done = 0
        while not self._stopping.is_set() and self.store.sessions.acquire(
                conversation_id, self.owner, utcnow() + self.lease):
            fresh = True  # the lease was just taken: no need to renew it for the first one
            try:
                while not self._stopping.is_set():
                    inbound = self.store.messages.next_queued(conversation_id)
                    if inbound is None or not (fresh or self.store.sessions.renew(
                            conversation_id, self.owner, utcnow() + self.lease)):
                        break
                    fresh = False
                    if inbound.attempts >= self.max_attempts:
                        self._give_up(inbound)
                        continue
                    self._process(inbound)
                    done += 1
            finally:
                self.store.sessions.release(conversation_id, self.owner)
            # A message stored while we held the lease found it taken: look once more.
            if self.store.messages.next_queued(conversation_id) is None:
                break
        return done

    def _process(self, inbound: Message) -> None:
        try:
            self.handler.process(inbound)
        except StoreUnavailable:
            raise  # the store's fault, not the message's: tried again later, not counted
        except Exception:
            self.store.messages.count_failure(inbound.id)
            raise

    def _give_up(self, inbound: Message) -> None:
        """A message whose answering raised every time must not block its conversation."""
        self.store.messages.mark_done(inbound.id, "failed")
        log.error("gave up dialect=%s message_id=%s conversation=%s after %d failed attempts "
                  "(logged above as 'answering failed'); the conversation goes on",
                  inbound.dialect, inbound.provider_message_id, inbound.conversation_id,
                  self.max_attempts)

    def sweep(self, limit: int = 100) -> int:
        """Submit conversations with queued messages (their lease decides who answers)."""
        self.schema.ensure()
        submitted = 0
        for conversation_id in self.store.messages.queued_conversations(limit):
            submitted += self.submit(conversation_id)
        return submitted

    def start(self) -> None:
        """Sweep (and renew held leases) now, then every `sweep_seconds`, in a daemon thread."""
        if self.sweep_seconds <= 0 or self._sweeper is not None:
            return
        self._sweeper = threading.Thread(target=self._sweep_forever, name="sweep", daemon=True)
        self._sweeper.start()

    def heartbeat(self) -> None:
        """Renew the leases this process holds, so a slow bot does not lose its conversation."""
        with self._lock:
            active = list(self._active)
        for conversation_id in active:
            self.store.sessions.renew(conversation_id, self.owner, utcnow() + self.lease)

    def _take_waiting(self, at_most: int) -> int:
        """Submit up to `at_most` of the oldest conversations that no worker holds and that
        do not wait in this pool already; how many (fewer once the pool is full again)."""
        with self._lock:
            active = set(self._active)  # waiting in our pool: queued, but not leased yet
        taken = 0
        for conversation_id in self.store.messages.queued_conversations(len(active) + at_most):
            if taken == at_most:
                break
            if conversation_id not in active:
                if not self.submit(conversation_id):
                    break  # full again: `_left` is set, the next free thread goes on
                taken += 1
        return taken

    def pickup(self) -> int:
        """Submit, while threads are idle, the oldest conversations that no worker holds
        (another worker's backlog, say); how many."""
        with self._lock:
            free = self.threads - len(self._active)
        if free <= 0 or not (taken := self._take_waiting(free)):
            return 0
        with self._lock:  # where these were, more may wait: a freed thread looks at once
            self._left = True
        return taken

    def _sweep_forever(self) -> None:
        next_sweep = 0.0
        while not self._stopping.is_set():
            try:
                with self.schema.watch():
                    if time.monotonic() >= next_sweep:
                        next_sweep = time.monotonic() + self.sweep_seconds
                        self.heartbeat()
                        if found := self.sweep():
                            log.info("sweep picked up conversations=%d", found)
                    elif found := self.pickup():
                        log.info("idle threads picked up conversations=%d", found)
            except StoreUnavailable:
                pass  # the schema gate logged the outage; the next sweep tries again
            except Exception:  # a bug must not end the sweeping
                log.exception("sweep failed; retrying in %ss", self.sweep_seconds)
            self._stopping.wait(min(PICKUP_SECONDS, self.sweep_seconds))

    def wait_idle(self, timeout: float = 10) -> bool:
        """Block until no conversation is being answered in this process."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._active, timeout)

    def stop(self, timeout: float = 25) -> None:
        """Take no new work, let running answers finish within `timeout`, release the rest."""
        self._stopping.set()
        finished = self.wait_idle(timeout)
        log.info("dispatcher stopped owner=%s finished=%s", self.owner, finished)
        self._pool.shutdown(wait=False, cancel_futures=True)
