"""Reading request bodies without letting slow senders take every thread of a worker.

A gunicorn `gthread` worker reads a body in one of its threads. `BodyReaders` lets at most
`slots` requests read a body at once (one fewer than the worker's threads, so `/healthz` and
requests without a body always find a thread): a request that finds every slot taken for
0.1 s is refused with 503, before reading anything. And no body may take longer than
`seconds` to arrive: one watchdog thread shuts the reading side of a socket whose deadline
has passed, which ends the read and lets the request answer 408.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.errors import ServerBusy

SLOT_WAIT_SECONDS = 0.1


class BodyReaders:
    """`with readers.slot(sock):` around reading one body."""

    def __init__(self, slots: int, seconds: float):
        self.seconds = seconds
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self._deadlines: dict[int, tuple[socket.socket, float]] = {}
        self._lock = threading.Lock()
        self._watchdog: threading.Thread | None = None

    @contextmanager
    def slot(self, sock: socket.socket | None) -> Iterator[None]:
        """Hold a reading slot (or raise `ServerBusy`) with `sock` cut off at the deadline."""
        # A quick body frees its slot in microseconds: wait that long, not for a slow one.
        if not self._slots.acquire(timeout=SLOT_WAIT_SECONDS):
            raise ServerBusy("every thread is reading another request's body; retry")
        try:
            if sock is not None:
                self._watch(sock)
            yield
        finally:
            if sock is not None:
                with self._lock:
                    self._deadlines.pop(id(sock), None)
            self._slots.release()

    def _watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._deadlines[id(sock)] = (sock, time.monotonic() + self.seconds)
            if self._watchdog is None:  # started by the first body read, in a serving worker
                self._watchdog = threading.Thread(target=self._cut_late, name="body-watchdog",
                                                  daemon=True)
                self._watchdog.start()

    def _cut_late(self) -> None:
        while True:
            time.sleep(min(0.5, self.seconds / 4))
            now = time.monotonic()
            with self._lock:
                late = [key for key, (_, deadline) in self._deadlines.items() if deadline < now]
                socks = [self._deadlines.pop(key)[0] for key in late]
            for sock in socks:
                try:
                    sock.shutdown(socket.SHUT_RD)  # the read ends; the answer can still go out
                except OSError:
                    pass
