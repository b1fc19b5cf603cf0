"""Rows that change a few times a year but are read on every referral, kept per process.

Each process re-reads them at most `seconds` later, and at once after a change made in that process
(the service that changes them calls `forget` on commit). Another process sees a change within
`seconds` (ADR 0011).
"""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

PROCESS_CACHE_SECONDS = 30
_all: list["ProcessCache"] = []


class ProcessCache[T]:
    def __init__(self, load: Callable[[], T], seconds: float = PROCESS_CACHE_SECONDS):
        self._load, self._seconds = load, seconds
        self._loaded_at, self._value = 0.0, None
        self._lock = threading.Lock()
        _all.append(self)

    def get(self) -> T:
        with self._lock:
            if self._value is None or time.monotonic() - self._loaded_at > self._seconds:
                self._value, self._loaded_at = self._load(), time.monotonic()
            return self._value

    def forget(self) -> None:
        with self._lock:
            self._loaded_at, self._value = 0.0, None


def register(cache) -> None:
    """Another per-process holder with a `forget()` (such as the duplicate-detection index), forgotten with the rest."""
    _all.append(cache)


def forget_all() -> None:
    """Every process cache, e.g. between tests that write the rows behind them."""
    for cache in _all:
        cache.forget()
