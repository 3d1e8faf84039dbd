"""What gunicorn's master does after loading the models and building the index."""

from __future__ import annotations

import pytest

from app.services import models


class _Libc:
    def __init__(self):
        self.trimmed = []

    def malloc_trim(self, pad: int) -> int:
        self.trimmed.append(pad)
        return 1


def test_the_heap_a_build_freed_is_handed_back_before_the_workers_fork(monkeypatch):
    """glibc keeps freed memory for reuse: without a trim, the master kept what building the
    index took, and each worker forked from it started with those pages (README)."""
    libc = _Libc()
    monkeypatch.setattr(models.ctypes, "CDLL", lambda name: libc)
    models.release_freed_memory()
    assert libc.trimmed == [0]


@pytest.mark.parametrize("cdll", [lambda name: object(),  # musl, macOS: no malloc_trim
                                  lambda name: (_ for _ in ()).throw(OSError("no libc"))])
def test_a_c_library_without_a_trim_keeps_its_memory_and_starts_anyway(monkeypatch, cdll):
    monkeypatch.setattr(models.ctypes, "CDLL", cdll)
    models.release_freed_memory()  # no error: the gateway starts as before
