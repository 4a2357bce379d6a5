"""Objects the site makes from files that other commands rewrite: the loaded run (`icc-practices run`) and the
models a check uses (`icc-practices train`)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class ReloadingStore(Generic[T]):
    """An object made again when what it is made from changes: `signature()` (names, times and sizes of its files)
    is looked at most every `check_seconds`. Requests during a remake keep the previous object; a remake that fails,
    or that read files being written (the signature changed meanwhile), leaves the previous one in use and is tried
    again at the next look."""

    def __init__(self, load: Callable[[], T], signature: Callable[[], tuple], check_seconds: float = 2.0,
                 current: T | None = None, what: str = "files"):
        self._load, self._signature, self._check_seconds, self._what = load, signature, check_seconds, what
        self._seen = signature()
        self._current = load() if current is None else current
        self._checked_at = time.monotonic()
        self._changed_at = float("-inf")  # when the files were last seen to change
        self._reloading = threading.Lock()

    def changed_within(self, seconds: float) -> bool:
        """Whether the files were seen to change in the last `seconds` (other readers of them may be reading them)."""
        return time.monotonic() - self._changed_at <= seconds

    def latest(self) -> T:
        """The object as last made, without looking at its files (another thread keeps it up to date)."""
        return self._current

    def current(self) -> T:
        now = time.monotonic()
        if now - self._checked_at < self._check_seconds:
            return self._current
        self._checked_at = now
        seen = self._signature()
        if seen != self._seen:
            self._changed_at = now
        if seen != self._seen and self._reloading.acquire(blocking=False):
            try:
                made = self._load()
                if self._signature() == seen:
                    self._current, self._seen = made, seen
                    log.info("read the %s again", self._what)
            except Exception:  # noqa: BLE001 - a half-written or broken file must not take the site down
                log.exception("could not read the %s again; the previous ones stay in use", self._what)
            finally:
                self._reloading.release()
        return self._current
