"""Checks run in worker processes, each stopped when it runs past its time limit.

A check is CPU-bound and its time grows with the text; a pattern of text that makes a reader slow would hold a
thread of the site for as long as it runs, and a thread cannot be stopped. A process can: a check running past
`WebSettings.check_timeout_seconds` is stopped with its process (pebble), which is started again with its models.
Each worker loads the models and the loaded run's vectors itself, and reads them again after `train` or a new
`run`, as the site does.
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
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
        _WORKER["models"] = model_store(models, settings.reload_check_seconds)
        _WORKER["catalogues"] = catalogue_store(settings.data_dir, models.embedder, settings.pipeline,
                                                settings.reload_check_seconds, search=False)
    except Exception as exc:  # noqa: BLE001 - pebble would start a failing worker again and again
        log.exception("a check worker could not load its models")
        _WORKER["failed"] = f"{type(exc).__name__}: {exc}"


def _ready() -> bool:
    return "failed" not in _WORKER


def _check_in_worker(data: bytes, filename: str | None, max_practices: int | None,
                     max_words: int | None) -> CheckReport:
    if "failed" in _WORKER:
        raise RuntimeError(f"the check worker could not load its models ({_WORKER['failed']})")
    return check_upload(io.BytesIO(data), filename, _WORKER["models"].current(), _WORKER["catalogues"].current(),
                        max_practices, max_words)


class CheckWorkers:
    """`workers` processes that check uploads, each check stopped after `timeout` seconds."""

    def __init__(self, settings: WorkerSettings, workers: int, timeout: float):
        self.timeout = timeout
        # a fresh interpreter, not a copy of the server: a copy made while another thread holds a lock (torch's,
        # the server's) could wait on it forever
        self._pool = ProcessPool(max_workers=workers, initializer=_start_worker, initargs=(settings,),
                                 context=multiprocessing.get_context("spawn"))
        self._workers = workers

    def start(self) -> None:
        """Start the workers now, so that the first check does not wait for them to load their models."""
        for _ in range(self._workers):
            self._pool.schedule(_ready)

    async def check(self, data: bytes, filename: str | None, max_practices: int | None,
                    max_words: int | None) -> CheckReport:
        """The check of one upload; a check past its time, or whose worker died, is an error report."""
        future = self._pool.schedule(_check_in_worker, args=(data, filename, max_practices, max_words),
                                     timeout=self.timeout)
        name = display_name(filename)
        try:
            # cancelled (the server stopping, the request given up): the future is cancelled and its worker stopped
            return await asyncio.wrap_future(future)
        except TimeoutError:
            log.warning("a check of %r ran past %s s and was stopped", name, self.timeout)
            return CheckReport(name, "error", "check_time_limit",
                               message("check_time_limit", seconds=max(1, round(self.timeout))))
        except ProcessExpired as exc:
            log.warning("the worker checking %r died (exit code %s)", name, exc.exitcode)
            return CheckReport(name, "error", "check_stopped", message("check_stopped"))

    def close(self) -> None:
        self._pool.stop()
        self._pool.join(timeout=10)
