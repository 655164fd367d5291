"""Evaluation backends: serial, a process pool, dask distributed (ARCHITECTURE.md section 3).

A backend has ``prepare(initializer)`` (run in this process and in each worker before it takes
work: evaluation builds its Setup and warms numba up there),
``map(fn, chunks) -> list`` (results in the order of ``chunks``) and ``close()``. It knows nothing
of robots: a chunk is an opaque picklable work unit. A chunk it could not evaluate (its worker
died, or gave no result within ``timeout`` seconds, on the first try and on the one retry) comes
back as :class:`ChunkFailed`; an exception raised by ``fn`` is a bug and propagates.

- :class:`SerialBackend` (``--workers 1``): in this process.
- :class:`ProcessBackend` (``--workers N``): N worker processes, one chunk in flight each, so a
  chunk's time and its worker are known exactly; a dead or hung worker is killed and replaced
  alone and its chunk retried, the other workers' chunks are not lost. (``ProcessPoolExecutor``
  cannot do this: a dead worker breaks every pending future, and it cannot kill one worker.)
  Start method ``forkserver`` (``spawn`` where absent), never ``fork``: the parent has loaded
  LLVM and may run threads (numba's, dask's), and forking a threaded process can deadlock the
  child; forkserver forks each worker from a small single-threaded server, so restarts are
  cheap. The initializer runs in the parent first (numba compiles, or loads from its cache),
  then in each worker before it takes work; a failed initializer is never fatal. Workers use the parent's
  ``NUMBA_CACHE_DIR``, ignore SIGINT/SIGTERM (the parent decides when to stop) and die with it.
  A worker not ready within ``startup_timeout`` seconds (hung or stopped in its imports or warm-up)
  is killed and replaced with a log line; more than ``2 * workers`` start-up failures in a row end
  the run with :class:`WorkerStartError`. With no result for ``STALL_AFTER`` seconds (or the chunk
  timeout if smaller), ``map`` logs one line naming the chunks and workers it waits on, and since when.
- :class:`DaskBackend` (``--dask ADDRESS|local``): ``local`` starts a private LocalCluster of
  ``workers`` single-threaded processes on 127.0.0.1 (TLS with throw-away certificates, no HTTP
  server); an address connects to a running scheduler, the handshake under a deadline. A chunk
  over the timeout ends its worker process from a watchdog thread (dask
  cannot interrupt a running task); dask reschedules the chunks of a dead worker, and a chunk
  whose workers died twice (``allowed-failures`` = 1 on a LocalCluster) is lost.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait
from typing import Any

from evorobot.errors import ConfigError
from evorobot.evolution.backend_base import (
    STALL_AFTER,
    STARTUP_TIMEOUT,
    Backend,
    ChunkFailed,
    Initializer,
    Log,
    WorkerError,
    WorkerStartError,
    _initialize,
    _stderr,
)
from evorobot.evolution.dask_backend import DaskBackend

__all__ = ["Backend", "ChunkFailed", "DaskBackend", "ProcessBackend", "SerialBackend", "WorkerError",
           "WorkerStartError", "make_backend"]


class SerialBackend:
    """Every chunk in this process, in order."""

    workers = 1

    def prepare(self, initializer: Initializer) -> None:
        _initialize(initializer, _stderr)

    def map(self, fn: Callable[[Any], Any], chunks: Iterable[Any]) -> list[Any]:
        return [fn(c) for c in chunks]

    def close(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"backend": "serial", "workers": 1}


def _worker_main(conn: Any, cache_dir: str | None, initializer: Initializer | None) -> None:
    """A worker: run the initializer, say ready, then answer ``(fn, arg)`` messages until None or EOF."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    if sys.platform.startswith("linux"):  # die with the parent, even if it is SIGKILLed
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except Exception:
            pass
    if cache_dir:
        os.environ["NUMBA_CACHE_DIR"] = cache_dir
        if "numba" in sys.modules:
            sys.modules["numba"].config.CACHE_DIR = cache_dir
    _initialize(initializer, _stderr)
    try:
        conn.send("ready")
        while (msg := conn.recv()) is not None:
            try:
                reply = (True, msg[0](msg[1]))
            except Exception:
                reply = (False, traceback.format_exc())
            conn.send(reply)
    except (EOFError, OSError):  # the parent went away
        pass


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    return f"exited with code {code}"


class _Worker:
    def __init__(self, ctx: Any, init: tuple[Any, ...]) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, *init), daemon=True, name="evorobot-worker")
        self.proc.start()
        child.close()
        self.ready = False
        self.index: int | None = None
        self.started = 0.0
        self.born = time.monotonic()

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class ProcessBackend:
    """``workers`` processes; see the module docstring."""

    def __init__(self, workers: int, timeout: float | None = None, retries: int = 1,
                 start_method: str | None = None, log: Log | None = None,
                 startup_timeout: float = STARTUP_TIMEOUT) -> None:
        methods = multiprocessing.get_all_start_methods()
        self.start_method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
        self.ctx = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            self.ctx.set_forkserver_preload(["numpy", "numba", "pymunk"])
        self.workers, self.timeout, self.retries = workers, timeout, retries
        self.startup_timeout = startup_timeout
        self.stall_after = min(STALL_AFTER, timeout) if timeout else STALL_AFTER
        self.log = log or _stderr
        self.restarts = 0
        self.dispatched = 0
        self._init: tuple[Any, ...] = (os.environ.get("NUMBA_CACHE_DIR"), None)
        self._pool: list[_Worker] = []

    def describe(self) -> dict[str, Any]:
        return {"backend": "process", "workers": self.workers, "start_method": self.start_method,
                "chunk_timeout": self.timeout, "startup_timeout": self.startup_timeout}

    def prepare(self, initializer: Initializer) -> None:
        """Run ``initializer`` here first (numba fills its cache), then start workers that run it."""
        _initialize(initializer, self.log)
        self.close()
        self._init = (os.environ.get("NUMBA_CACHE_DIR"), initializer)
        self._pool = [_Worker(self.ctx, self._init) for _ in range(self.workers)]

    def pids(self) -> list[int]:
        return [w.proc.pid for w in self._pool if w.proc.pid is not None]

    def _replace(self, k: int) -> None:
        self._pool[k].kill()
        self._pool[k] = _Worker(self.ctx, self._init)
        self.restarts += 1

    def _dispatched(self, worker: _Worker, index: int) -> None:
        """Hook called after a chunk is sent (tests use it to kill a worker mid-chunk)."""

    def map(self, fn: Callable[[Any], Any], chunks: Iterable[Any]) -> list[Any]:
        items = list(chunks)
        if not self._pool:
            self._pool = [_Worker(self.ctx, self._init) for _ in range(self.workers)]
        results: list[Any] = [None] * len(items)
        todo, tries, left, startup_deaths = deque(range(len(items))), [0] * len(items), len(items), 0
        progress = time.monotonic()  # when the last message (ready or result) came
        next_note = progress + self.stall_after
        try:
            while left:
                for w in self._pool:
                    if w.ready and w.index is None and todo:
                        w.index, w.started = todo.popleft(), time.monotonic()
                        self.dispatched += 1
                        w.conn.send((fn, items[w.index]))
                        self._dispatched(w, w.index)
                live = [w for w in self._pool if w.index is not None or not w.ready]
                wait([w.conn for w in live] + [w.proc.sentinel for w in live], self._wait_for(live, next_note))
                now = time.monotonic()
                for k, w in enumerate(self._pool):
                    reason, gone = None, False
                    try:
                        message = w.conn.recv() if w.conn.poll() else None
                    except (EOFError, OSError):
                        message, gone = None, True
                        w.proc.join(1)
                    if message is not None:
                        progress, next_note = now, now + self.stall_after
                    if message == "ready":
                        w.ready, startup_deaths = True, 0
                        continue
                    if message is not None and w.index is not None:
                        ok, value = message
                        if not ok:
                            raise WorkerError(f"a chunk raised in worker {w.proc.pid}:\n{value}")
                        results[w.index], w.index, left = value, None, left - 1
                        continue
                    if gone or not w.proc.is_alive():
                        reason = f"worker {w.proc.pid} {_exit_reason(w.proc.exitcode)}"
                    elif not w.ready and now - w.born > self.startup_timeout:
                        reason = (f"worker {w.proc.pid} not ready within --startup-timeout "
                                  f"{self.startup_timeout:g} s, killed")
                    elif w.index is not None and self.timeout and now - w.started > self.timeout:
                        reason = f"no result within {self.timeout:g} s (worker {w.proc.pid} killed)"
                    if reason is None:
                        continue
                    i, was_ready = w.index, w.ready
                    if not was_ready:
                        startup_deaths += 1
                        if startup_deaths > 2 * self.workers:
                            w.kill()
                            raise WorkerStartError(f"{startup_deaths} worker processes in a row failed to start, "
                                                   f"the last: {reason}")
                    self._replace(k)
                    if not was_ready:
                        late = "" if "not ready" in reason else " before it was ready"
                        self.log(f"{reason}{late}; started worker {self._pool[k].proc.pid}")
                    if i is None:
                        continue
                    tries[i] += 1
                    if tries[i] > self.retries:
                        results[i], left = ChunkFailed(reason), left - 1
                        self.log(f"chunk {i} lost: {reason}")
                    else:
                        todo.appendleft(i)
                        self.log(f"chunk {i}: {reason}; worker restarted, chunk retried")
                if left and now >= next_note:
                    self.log(self._stalled(now, progress))
                    next_note = now + self.stall_after
        except BaseException:
            self.close()  # workers hold chunks we no longer want: start afresh next time
            raise
        return results

    def _stalled(self, now: float, progress: float) -> str:
        """One line: how long without a result, and the chunks and workers waited on, with their ages."""
        parts = [f"chunk {w.index} on worker {w.proc.pid} for {now - w.started:.0f} s" for w in self._pool
                 if w.index is not None]
        parts += [f"worker {w.proc.pid} starting for {now - w.born:.0f} s" for w in self._pool if not w.ready]
        return f"no result for {now - progress:.0f} s; waiting on " + (", ".join(parts) or "nothing")

    def _wait_for(self, live: list[_Worker], next_note: float) -> float:
        """Seconds until the next deadline: a chunk's timeout, a worker's start-up, the stall note."""
        deadlines = [next_note] + [w.born + self.startup_timeout for w in live if not w.ready]
        if self.timeout:
            deadlines += [w.started + self.timeout for w in live if w.index is not None]
        return max(0.0, min(deadlines) - time.monotonic()) + 0.01

    def close(self) -> None:
        pool, self._pool = self._pool, []
        for w in pool:
            try:
                w.conn.send(None)
            except OSError:
                pass
        deadline = time.monotonic() + 2.0
        for w in pool:
            if w.index is None:
                w.proc.join(max(0.0, deadline - time.monotonic()))
            w.kill()


def make_backend(workers: int | None = None, dask: str | None = None, timeout: float | None = None,
                 log: Log | None = None, startup_timeout: float | None = None) -> SerialBackend | ProcessBackend | DaskBackend:
    """The backend for ``--workers N`` / ``--dask ADDRESS|local`` / ``--chunk-timeout S`` / ``--startup-timeout S``."""
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    if timeout is not None and not timeout > 0:
        raise ConfigError(f"--chunk-timeout must be > 0 seconds, got {timeout}")
    if startup_timeout is not None and not 0 < startup_timeout < 1e9:
        raise ConfigError(f"--startup-timeout must be > 0 seconds, got {startup_timeout}")
    start = STARTUP_TIMEOUT if startup_timeout is None else startup_timeout
    if dask is not None:
        if dask != "local" and workers is not None:
            raise ConfigError("--workers applies to --dask local only (a scheduler has its own workers)")
        return DaskBackend(dask, workers, timeout, log=log, startup_timeout=start)
    if (workers or 1) == 1:
        if timeout is not None:
            raise ConfigError("--chunk-timeout needs --workers >= 2 or --dask (a serial run cannot time out a chunk)")
        if startup_timeout is not None:
            raise ConfigError("--startup-timeout needs --workers >= 2 or --dask (a serial run starts no worker)")
        return SerialBackend()
    return ProcessBackend(workers or 1, timeout, log=log, startup_timeout=start)
