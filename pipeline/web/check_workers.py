"""Checks run in worker processes, each stopped when it runs past its time limit.

A check is CPU-bound and its time grows with the text; a pattern of text that makes a reader slow would hold a
thread of the site for as long as it runs, and a thread cannot be stopped. A process can: a check running past
`WebSettings.check_timeout_seconds` is stopped with its process (pebble), which is started again with its models.
Each worker loads the models and the loaded run's vectors itself, and reads them again after `train` or a new
`run` in a thread of its own, between checks, so that a check's time is its own.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from pebble import ProcessExpired, ProcessPool

from pipeline.config import Settings
from pipeline.errors import message
from pipeline.web.checking import CheckReport, check_upload, display_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker process is started with (no token, no key: a worker reads forms and the run's tables only)."""

    pipeline: Settings
    data_dir: Path
    reload_check_seconds: float
    warm_up: bool


# Per worker process: its model and run stores, or why they could not be made (set once by `_start_worker`).
_WORKER: dict = {}


def _start_worker(settings: WorkerSettings) -> None:
    from pipeline.config import offline_hub
    from pipeline.web.catalogue import catalogue_store
    from pipeline.web.models import AnalysisModels, model_store

    try:
        offline_hub()
        models = AnalysisModels.load(settings.pipeline)
        if settings.warm_up:
            models.warm_up()
        stores = (model_store(models, settings.reload_check_seconds),
                  catalogue_store(settings.data_dir, models.embedder, settings.pipeline,
                                  settings.reload_check_seconds, search=False))
    except Exception as exc:  # noqa: BLE001 - pebble would start a failing worker again and again
        log.exception("a check worker could not load its models")
        _WORKER["failed"] = f"{type(exc).__name__}: {exc}"
        return
    _WORKER["models"], _WORKER["catalogues"] = stores

    def look_for_new_files() -> None:
        while True:
            time.sleep(max(settings.reload_check_seconds, 0.5))
            for store in stores:
                store.current()

    threading.Thread(target=look_for_new_files, name="check-worker-reload", daemon=True).start()


def _ready() -> bool:
    return "failed" not in _WORKER


def _check_in_worker(data: bytes, filename: str | None, max_practices: int | None,
                     max_words: int | None) -> CheckReport:
    if "failed" in _WORKER:
        raise RuntimeError(f"the check worker could not load its models ({_WORKER['failed']})")
    # what the worker's own thread last read: a reload is not timed as part of a check
    return check_upload(io.BytesIO(data), filename, _WORKER["models"].latest(), _WORKER["catalogues"].latest(),
                        max_practices, max_words)


def _end(pool: ProcessPool) -> None:
    """End a pool and every process of it (`stop` alone ends none)."""
    pool.stop()
    try:
        pool.join(timeout=30)
    except Exception:  # noqa: BLE001 - a pool that broke may fail to join; its processes are ended all the same
        log.exception("the check workers of a broken pool did not end cleanly")


class CheckWorkers:
    """`workers` processes that check uploads, each check stopped after `timeout` seconds."""

    def __init__(self, settings: WorkerSettings, workers: int, timeout: float):
        self.settings, self.workers, self.timeout = settings, workers, timeout
        self._lock = threading.Lock()
        self._pool, self._loaded = self._new_pool()

    def _new_pool(self) -> tuple[ProcessPool, list]:
        # a fresh interpreter, not a copy of the server: a copy made while another thread holds a lock (torch's,
        # the server's) could wait on it forever
        pool = ProcessPool(max_workers=self.workers, initializer=_start_worker, initargs=(self.settings,),
                           context=multiprocessing.get_context("spawn"))
        # started now, so that the first check does not wait for the models; done once the workers have loaded them
        return pool, [pool.schedule(_ready) for _ in range(self.workers)]

    @property
    def state(self) -> str:
        """'ok'; 'starting' while the workers load their models; 'restarting' after a worker died while idle,
        until `revive` has started them again."""
        if not self._pool.active:
            return "restarting"
        return "ok" if all(f.done() for f in self._loaded) else "starting"

    def revive(self) -> ProcessPool:
        """The pool, started again when a worker died while idle: pebble then gives the whole pool up (the
        workers still running in it are ended)."""
        with self._lock:
            if not self._pool.active:
                log.warning("a check worker ended outside a check: starting the check workers again")
                broken = self._pool
                self._pool, self._loaded = self._new_pool()
                threading.Thread(target=_end, args=(broken,), daemon=True).start()
            return self._pool

    async def check(self, data: bytes, filename: str | None, max_practices: int | None, max_words: int | None,
                    gone: Callable[[], Awaitable[bool]] | None = None,
                    reading_new_files: Callable[[], bool] | None = None) -> CheckReport:
        """The check of one upload; a check past its time, or whose worker died, is an error report. `gone`: whether
        the visitor has left, looked at every second: their check is stopped with its worker. `reading_new_files`:
        whether the site has just read a new run or new models, which the workers read too while they check (a
        check past its time then is not said to be the file's fault)."""
        name = display_name(filename)
        for attempt in range(2):
            try:
                future = self.revive().schedule(_check_in_worker, args=(data, filename, max_practices, max_words),
                                                timeout=self.timeout)
                break
            except RuntimeError:  # the pool broke between the look and the scheduling: once more, on a new one
                if attempt:
                    raise
        waiting = asyncio.wrap_future(future)
        try:
            while True:
                done, _ = await asyncio.wait({waiting}, timeout=1.0)
                if done:
                    return waiting.result()
                if gone is not None and await gone():
                    future.cancel()  # pebble stops the worker of a running check
                    log.info("the visitor checking %r left: the check was stopped", name)
                    return CheckReport(name, "error", "check_stopped", message("check_stopped"))
        except TimeoutError:
            log.warning("a check of %r ran past %s s and was stopped", name, self.timeout)
            if reading_new_files is not None and reading_new_files():
                return CheckReport(name, "error", "check_stopped", message("check_stopped"))
            return CheckReport(name, "error", "check_time_limit", message("check_time_limit",
                                                                          seconds=max(1, round(self.timeout))))
        except (ProcessExpired, BrokenProcessPool, RuntimeError) as exc:
            # the worker died under the check, or the pool broke while it waited (a worker dying as it started)
            log.warning("the check of %r stopped before its end (%s)", name, exc)
            return CheckReport(name, "error", "check_stopped", message("check_stopped"))
        finally:
            if not future.done():
                future.cancel()

    def close(self) -> None:
        with self._lock:
            _end(self._pool)
