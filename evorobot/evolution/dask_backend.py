"""The dask distributed backend (``--dask ADDRESS|local``); see :mod:`evorobot.evolution.backends`.

The initializer runs on every worker as a dask worker plugin, so a worker that the nanny
restarts (after a chunk killed it, or ran over ``--chunk-timeout``) is warm before it takes a
chunk: its start-up (imports, Setup, numba's cache) never counts against a chunk's deadline.
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from evorobot.errors import ConfigError, DependencyNotInstalled
from evorobot.evolution.backend_base import (
    ChunkFailed,
    Initializer,
    Log,
    _initialize,
    _stderr,
)


def _call_with_deadline(fn: Callable[[Any], Any], seconds: float, arg: Any) -> Any:
    """``fn(arg)`` in a dask worker, ending the worker process if it runs over ``seconds``: dask
    cannot interrupt a running task, but it reschedules (once) the tasks of a worker that died."""
    timer = threading.Timer(seconds, os._exit, (75,))
    timer.daemon = True
    timer.start()
    try:
        return fn(arg)
    finally:
        timer.cancel()


def _warm_up_plugin(initializer: Initializer) -> Any:
    """A dask ``WorkerPlugin`` that runs ``initializer`` when a worker starts (restarts included)."""
    from distributed import WorkerPlugin

    class WarmUp(WorkerPlugin):
        def __init__(self, init: Initializer) -> None:
            self.init = init

        def setup(self, worker: Any) -> None:
            _initialize(self.init, _stderr)

    return WarmUp(initializer)


class DaskBackend:
    """Chunks as dask futures; see the module docstring."""

    def __init__(self, address: str, workers: int | None = None, timeout: float | None = None,
                 retries: int = 1, log: Log | None = None) -> None:
        try:
            import dask
            import distributed
        except ImportError:
            raise DependencyNotInstalled(
                "--dask needs dask.distributed: pip install 'evorobot[dask]'") from None
        self.address, self.timeout, self.retries = address, timeout, retries
        self.log = log or _stderr
        self.cluster = None
        self._plugin: str | None = None
        if address == "local":
            self.workers = workers or 2
            with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
                self.cluster = distributed.LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address=None, scheduler_port=0, silence_logs=40)
            self.client = distributed.Client(self.cluster)
        else:
            try:
                self.client = distributed.Client(address, timeout="20s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConfigError(f"--dask {address}: cannot reach the scheduler: {exc}") from None
            self.workers = len(self.client.scheduler_info().get("workers", {}))

    def describe(self) -> dict[str, Any]:
        return {"backend": "dask", "address": self.address, "workers": self.workers,
                "chunk_timeout": self.timeout}

    def prepare(self, initializer: Initializer) -> None:
        """Run ``initializer`` here, then on every worker now and on every worker that starts later."""
        _initialize(initializer, self.log)
        self._unregister()
        name = f"evorobot-warm-up-{uuid.uuid4().hex}"
        try:
            self.client.register_plugin(_warm_up_plugin(initializer), name=name)
            self._plugin = name
        except Exception as exc:  # noqa: BLE001 - a failed warm-up is never fatal (Backend.prepare)
            self.log(f"the initializer on the dask workers failed ({exc!r}); continuing")

    def _unregister(self) -> None:
        """Remove our plugin from the scheduler (a shared scheduler outlives this run)."""
        name, self._plugin = self._plugin, None
        if name is not None:
            try:
                self.client.unregister_worker_plugin(name)
            except Exception as exc:  # noqa: BLE001 - closing goes on whatever the scheduler says
                self.log(f"could not remove the warm-up plugin from the dask scheduler ({exc!r})")

    def map(self, fn: Callable[[Any], Any], chunks: Iterable[Any]) -> list[Any]:
        from distributed import KilledWorker, as_completed

        items = list(chunks)
        call = functools.partial(_call_with_deadline, fn, self.timeout) if self.timeout else fn
        threads = sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values())
        todo, index, results = iter(range(len(items))), {}, [None] * len(items)
        submitted: list[Any] = []

        def submit(i: int) -> Any:
            submitted.append(self.client.submit(call, items[i], pure=False))
            index[submitted[-1].key] = i
            return submitted[-1]

        # One chunk per worker thread at a time, so none waits on a worker behind a hung one.
        pending = as_completed([submit(i) for i in itertools.islice(todo, max(1, threads))])
        try:
            for future in pending:
                i = index[future.key]
                try:
                    results[i] = future.result()
                except KilledWorker:
                    late = f" or ran over {self.timeout:g} s" if self.timeout else ""
                    results[i] = ChunkFailed(f"its dask worker died{late} on every try")
                    self.log(f"chunk {i} lost: {results[i].reason}")
                nxt = next(todo, None)
                if nxt is not None:
                    pending.add(submit(nxt))
        finally:
            self.client.cancel([f for f in submitted if not f.done()])
        return results

    def close(self) -> None:
        self._unregister()
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
