"""The dask distributed backend (``--dask ADDRESS|local``); see :mod:`evorobot.evolution.backends`."""

from __future__ import annotations

import functools
import itertools
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from evorobot.errors import ConfigError, DependencyNotInstalled
from evorobot.evolution.backend_base import ChunkFailed, Initializer, Log, _initialize, _stderr


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
        _initialize(initializer, self.log)
        try:
            self.client.run(_initialize, initializer, _stderr)
        except Exception as exc:
            self.log(f"the initializer on the dask workers failed ({exc!r}); continuing")

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
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
