"""Reading request bodies without letting slow senders, or large ones, cost a worker.

A gunicorn `gthread` worker reads a body in one of its threads. `BodyReaders` lets at most
`slots` requests read a body at once (one fewer than the worker's threads, so `/healthz` and
requests without a body always find a thread): a request that finds every slot taken for
0.1 s is refused with 503, before reading anything. And no body may take longer than
`seconds` to arrive: one watchdog thread shuts the reading side of a socket whose deadline
has passed, which ends the read and lets the request answer 408.

Each slot owns one buffer, mapped once and reused, that bodies are read into `READ_STEP` at a
time: a forged 4 MiB body is checked in place and leaves nothing behind. Read whole into
fresh `bytes`, such bodies left each thread's malloc arena holding megabytes of freed memory
(a worker grew by 70 to 110 MB over 200 of them).
"""

from __future__ import annotations

import mmap
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from app.errors import PayloadTooLarge, ServerBusy

SLOT_WAIT_SECONDS = 0.1
# Under malloc's mmap threshold (128 KiB): reading a body never makes a large allocation.
READ_STEP = 64 * 1024
# What a buffer keeps in memory between bodies; pages a larger body touched are given back.
KEEP_BYTES = 256 * 1024


class BodyReaders:
    """`with readers.slot(sock) as buffer:` around reading one body of at most `limit` bytes
    into `buffer`."""

    def __init__(self, slots: int, seconds: float, limit: int):
        self.seconds = seconds
        self.limit = limit
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self._buffers: list[mmap.mmap] = []  # free ones; a slot maps its own the first time
        self._deadlines: dict[int, tuple[socket.socket, float]] = {}
        self._lock = threading.Lock()
        self._watchdog: threading.Thread | None = None

    @contextmanager
    def slot(self, sock: socket.socket | None) -> Iterator[mmap.mmap]:
        """Hold a reading slot and its buffer (or raise `ServerBusy`), with `sock` cut off
        at the deadline. Views of the buffer must not outlive the block."""
        # A quick body frees its slot in microseconds: wait that long, not for a slow one.
        if not self._slots.acquire(timeout=SLOT_WAIT_SECONDS):
            raise ServerBusy("every thread is reading another request's body; retry")
        with self._lock:
            buffer = self._buffers.pop() if self._buffers else None
        try:
            if buffer is None:  # pages are only touched as far as bodies reach
                buffer = mmap.mmap(-1, max(self.limit, KEEP_BYTES))
            if sock is not None:
                self._watch(sock)
            yield buffer
        finally:
            if buffer is not None and len(buffer) > KEEP_BYTES:
                # Only attackers send megabytes: their pages go back to the system at once.
                buffer.madvise(mmap.MADV_DONTNEED, KEEP_BYTES, len(buffer) - KEEP_BYTES)
            with self._lock:
                if sock is not None:
                    self._deadlines.pop(id(sock), None)
                if buffer is not None:
                    self._buffers.append(buffer)
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


def read_into(stream: BinaryIO, buffer: mmap.mmap, limit: int) -> memoryview:
    """`stream` read to its end into `buffer`, `READ_STEP` at a time: a view of the body.
    `PayloadTooLarge` once it passes `limit` bytes (nothing more is read)."""
    view = memoryview(buffer)
    size = 0
    try:
        while chunk := stream.read(READ_STEP):
            if size + len(chunk) > limit:
                raise PayloadTooLarge(f"the body is over {limit} bytes")
            view[size:size + len(chunk)] = chunk
            size += len(chunk)
        return view[:size]
    finally:
        view.release()  # the slice returned keeps the buffer exported; this one need not
