"""The dask distributed backend (``--dask ADDRESS|local``); see :mod:`evorobot.evolution.backends`.

The initializer runs on every worker as a dask worker plugin, so a worker that the nanny
restarts (after a chunk killed it, or ran over ``--chunk-timeout``) is warm before it takes a
chunk: its start-up (imports, Setup, numba's cache) never counts against a chunk's deadline. A
warm-up that runs over ``startup_timeout`` ends its worker process (the nanny starts another).

Every wait has a deadline:

- ``--dask ADDRESS``: the whole connection (TCP connect, dask's handshake, the first scheduler
  information) must finish within dask's ``distributed.comm.timeouts.connect`` (30 s by default).
  Before distributed sees a ``tcp://`` address, a raw socket reads the first 8 bytes the server
  sends: a dask scheduler speaks first, a little-endian frame length of a few dozen bytes (its
  handshake, ``distributed/comm/core.py``, read by ``distributed/comm/tcp.py``). Silence (an HTTP
  server waits for a request) or an implausible length (``b"HTTP/1.0"`` read as a length is 2.8 EiB,
  which distributed would try to allocate) is refused in one line. ``tls://`` speaks TLS first, so
  it skips the probe and keeps the deadline.
- ``map``: with no result for ``STALL_AFTER`` seconds (or the chunk timeout if smaller), one log
  line names the chunks waited on; a scheduler that goes away ends the run with :class:`ClusterError`.

``--dask local`` is private to this process: TLS with throw-away certificates
(``Security.temporary()``: only holders of the in-memory key, this process and its workers, can
connect, so another local user cannot run code on the workers), the scheduler's and workers'
HTTP servers (dashboard, metrics) stopped, every socket on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import itertools
import logging
import os
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from evorobot.errors import ConfigError, DependencyNotInstalled, EvorobotError
from evorobot.evolution.backend_base import (
    STALL_AFTER,
    STARTUP_TIMEOUT,
    ChunkFailed,
    Initializer,
    Log,
    _initialize,
    _stderr,
)

#: The largest first frame a dask scheduler plausibly sends: its handshake is ~60 bytes.
MAX_HANDSHAKE_BYTES = 1 << 20


class ClusterError(EvorobotError):
    """The dask scheduler went away, or stopped answering, during the run."""


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


def _stop_http(dask_worker: Any = None, dask_scheduler: Any = None) -> None:
    """Stop the HTTP server (dashboard, metrics) of a dask worker or scheduler: nothing listens but TLS comms."""
    server = getattr(dask_worker or dask_scheduler, "http_server", None)
    if server is not None:
        server.stop()


def _warm_up_plugin(initializer: Initializer, startup_timeout: float, private: bool) -> Any:
    """A dask ``WorkerPlugin`` that runs ``initializer`` when a worker starts (restarts included),
    ending the worker process if that takes over ``startup_timeout`` seconds."""
    from distributed import WorkerPlugin

    class WarmUp(WorkerPlugin):
        def __init__(self, init: Initializer, seconds: float, private: bool) -> None:
            self.init, self.seconds, self.private = init, seconds, private

        def setup(self, worker: Any) -> None:
            if self.private:
                _stop_http(dask_worker=worker)
            timer = threading.Timer(self.seconds, _exit_late, (self.seconds,))
            timer.daemon = True
            timer.start()
            try:
                _initialize(self.init, _stderr)
            finally:
                timer.cancel()

    return WarmUp(initializer, startup_timeout, private)


def _exit_late(seconds: float) -> None:
    _stderr(f"dask worker {os.getpid()} not ready within --startup-timeout {seconds:g} s; ending it "
            "(its nanny starts another)")
    os._exit(76)


def _cancelled() -> tuple[type[BaseException], ...]:
    """What ``distributed.wait`` raises for cancelled futures (``FuturesCancelledError`` since 2024.12)."""
    from concurrent.futures import CancelledError

    from distributed import client

    return tuple(c for c in (getattr(client, "FuturesCancelledError", None), CancelledError) if c is not None)


@contextlib.contextmanager
def _quiet_distributed() -> Iterator[None]:
    """Mute distributed's own log (its reconnect tracebacks): this backend says in one line what happened."""
    names = ["distributed"] + [n for n, lg in logging.root.manager.loggerDict.items()
                               if n.startswith("distributed.") and getattr(lg, "level", 0)]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _connect_timeout() -> float:
    import dask
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="s"))


def _shown(data: bytes) -> str:
    return repr(data)[2:-1]


def probe(address: str, seconds: float) -> None:
    """Refuse, in one line, a ``tcp://`` address that does not answer like a dask scheduler within ``seconds``."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, loc = parse_address(address)
        host, port = parse_host_port(loc, 8786)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--dask {address}: not a scheduler address ({exc}); expected tcp://HOST:PORT") from None
    if scheme != "tcp":
        return  # tls:// (and others) speak first from our side: distributed's own handshake, under the deadline
    deadline = time.monotonic() + seconds
    try:
        with socket.create_connection((host, port), timeout=seconds) as sock:
            head = b""
            while len(head) < 8:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    part = sock.recv(8 - len(head))
                except TimeoutError:  # socket.timeout
                    raise ConfigError(
                        f"--dask {address}: sent {'nothing' if not head else _shown(head)} within {seconds:g} s; "
                        "a dask scheduler speaks first (is this the scheduler's address?)") from None
                if not part:
                    raise ConfigError(f"--dask {address}: closed the connection after "
                                      f"{_shown(head) or 'no bytes'}; not a dask scheduler")
                head += part
    except OSError as exc:
        raise ConfigError(f"--dask {address}: cannot reach the scheduler: {exc}") from None
    (length,) = struct.unpack("<Q", head)
    if not 8 <= length <= MAX_HANDSHAKE_BYTES:
        raise ConfigError(f"--dask {address}: not a dask scheduler: it sent {_shown(head)!r} (a frame of "
                          f"{length} bytes; a scheduler's handshake is under {MAX_HANDSHAKE_BYTES} bytes)")


def is_loopback(address: str) -> bool:
    """Whether a scheduler address names this machine (127.0.0.0/8, ::1, localhost)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        host = parse_host_port(parse_address(address)[1], 8786)[0]
    except (ValueError, TypeError):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connect(address: str, seconds: float, security: Any = None) -> Any:
    """A ``distributed.Client`` for ``address`` whose connection, handshake and first scheduler
    information all finish within ``seconds`` (distributed's own timeout covers the TCP connect only)."""
    import distributed

    probe(address, seconds)
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            client = distributed.Client(address, timeout=f"{seconds}s", security=security)
            box["client"], box["workers"] = client, len(client.scheduler_info().get("workers", {}))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True, name="evorobot-dask-connect")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise ConfigError(f"--dask {address}: no dask handshake within {seconds:g} s (set "
                          "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT to wait longer)")
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, (OSError, TimeoutError, ValueError, TypeError, EOFError, MemoryError)):
            raise ConfigError(f"--dask {address}: cannot reach the scheduler: {exc}") from None
        raise exc
    return box["client"]


def _local_cluster(workers: int, retries: int) -> Any:
    """A private LocalCluster: TLS with throw-away certificates, on 127.0.0.1, no HTTP server."""
    import dask
    import distributed

    try:
        security = distributed.Security.temporary()
    except ImportError:
        raise DependencyNotInstalled("--dask local needs `cryptography` for its private TLS certificates: "
                                     "pip install 'evorobot[dask]'") from None
    settings = {"distributed.scheduler.allowed-failures": retries,
                "distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}
    with dask.config.set(settings):
        return distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", protocol="tls",
            security=security, dashboard_address="127.0.0.1:0", scheduler_kwargs={"dashboard": False},
            scheduler_port=0, silence_logs=40)


class DaskBackend:
    """Chunks as dask futures; see the module docstring."""

    def __init__(self, address: str, workers: int | None = None, timeout: float | None = None,
                 retries: int = 1, log: Log | None = None, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        try:
            import dask  # noqa: F401
            import distributed
        except ImportError:
            raise DependencyNotInstalled(
                "--dask needs dask.distributed: pip install 'evorobot[dask]'") from None
        self.address, self.timeout, self.retries = address, timeout, retries
        self.startup_timeout = startup_timeout
        self.stall_after = min(STALL_AFTER, timeout) if timeout else STALL_AFTER
        self.log = log or _stderr
        self.cluster = None
        self._plugin: str | None = None
        self._quiet = contextlib.ExitStack()
        self._quiet.enter_context(_quiet_distributed())
        try:
            if address == "local":
                self.workers = workers or 2
                self.cluster = _local_cluster(self.workers, retries)
                self.client = distributed.Client(self.cluster)
                self.client.run_on_scheduler(_stop_http)
                self.client.run(_stop_http)
            else:
                if not is_loopback(address) and not address.startswith("tls://"):
                    self.log(f"--dask {address}: the connection is not authenticated nor encrypted (a scheduler "
                             "on another machine needs TLS, see docs/cluster.md)")
                self.client = connect(address, _connect_timeout())
                self.workers = len(self.client.scheduler_info().get("workers", {}))
        except BaseException:
            if self.cluster is not None:
                self.cluster.close(timeout=10)
            self._quiet.close()
            raise

    def describe(self) -> dict[str, Any]:
        return {"backend": "dask", "address": self.address, "workers": self.workers,
                "chunk_timeout": self.timeout, "startup_timeout": self.startup_timeout}

    def prepare(self, initializer: Initializer) -> None:
        """Run ``initializer`` here, then on every worker now and on every worker that starts later."""
        _initialize(initializer, self.log)
        self._unregister()
        name = f"evorobot-warm-up-{uuid.uuid4().hex}"
        try:
            plugin = _warm_up_plugin(initializer, self.startup_timeout, self.cluster is not None)
            self.client.register_plugin(plugin, name=name)
            self._plugin = name
        except Exception as exc:  # noqa: BLE001 - a failed warm-up is never fatal (Backend.prepare)
            self.log(f"the initializer on the dask workers failed ({exc!r}); continuing")

    def _unregister(self) -> None:
        """Remove our plugin from the scheduler (a shared scheduler outlives this run)."""
        name, self._plugin = self._plugin, None
        if name is not None and self.client.status == "running":
            try:
                self.client.unregister_worker_plugin(name)
            except Exception as exc:  # noqa: BLE001 - closing goes on whatever the scheduler says
                self.log(f"could not remove the warm-up plugin from the dask scheduler ({exc!r})")

    def map(self, fn: Callable[[Any], Any], chunks: Iterable[Any]) -> list[Any]:
        from distributed import KilledWorker, wait

        items = list(chunks)
        call = functools.partial(_call_with_deadline, fn, self.timeout) if self.timeout else fn
        threads = sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values())
        todo, index, results = iter(range(len(items))), {}, [None] * len(items)
        submitted: list[Any] = []
        running: set[Any] = set()
        resubmitted: dict[int, int] = {}

        def submit(i: int) -> None:
            submitted.append(self.client.submit(call, items[i], pure=False))
            index[submitted[-1].key] = i
            running.add(submitted[-1])

        # One chunk per worker thread at a time, so none waits on a worker behind a hung one.
        for i in itertools.islice(todo, max(1, threads)):
            submit(i)
        progress = note = time.monotonic()
        try:
            while running:
                self._check_connected()  # every second: a client that lost its scheduler closes, futures stay pending
                try:
                    done = wait(list(running), timeout=1.0, return_when="FIRST_COMPLETED").done
                except _cancelled():  # the client lost its scheduler (or someone cancelled): resubmit once back
                    self._await_reconnect()
                    for future in sorted((f for f in running if f.cancelled()), key=lambda f: index[f.key]):
                        running.discard(future)
                        i = index[future.key]
                        resubmitted[i] = resubmitted.get(i, 0) + 1
                        if resubmitted[i] > 2:
                            raise ClusterError(f"--dask {self.address}: the scheduler cancelled chunk {i} "
                                               f"{resubmitted[i]} times") from None
                        self.log(f"chunk {i} was cancelled by the dask scheduler; submitted again")
                        submit(i)
                    continue
                except TimeoutError:
                    now = time.monotonic()
                    if now - note >= self.stall_after:
                        self.log(self._stalled(now - progress, sorted(index[f.key] for f in running)))
                        note = now
                    continue
                progress = note = time.monotonic()
                for future in sorted(done, key=lambda f: index[f.key]):
                    running.discard(future)
                    i = index[future.key]
                    try:
                        results[i] = future.result()
                    except KilledWorker:
                        late = f" or ran over {self.timeout:g} s" if self.timeout else ""
                        results[i] = ChunkFailed(f"its dask worker died{late} on every try")
                        self.log(f"chunk {i} lost: {results[i].reason}")
                    except Exception as exc:
                        if future.status == "error":
                            raise
                        self._check_connected()
                        raise ClusterError(f"--dask {self.address}: chunk {i} was {future.status} by the "
                                           f"scheduler ({type(exc).__name__})") from None
                    nxt = next(todo, None)
                    if nxt is not None:
                        submit(nxt)
        finally:
            if self.client.status == "running":
                self.client.cancel([f for f in submitted if not f.done()])
        return results

    def _check_connected(self) -> None:
        """A client that lost its scheduler reconnects for the connect timeout, then closes: that ends the run."""
        if self.client.status not in ("running", "connecting", "newly-created"):
            raise ClusterError(f"--dask {self.address}: lost the dask scheduler and could not reconnect "
                               f"within {_connect_timeout():g} s")

    def _await_reconnect(self) -> None:
        """Wait while the client reconnects (distributed bounds that by the connect timeout);
        :class:`ClusterError` if it gave up."""
        deadline = time.monotonic() + _connect_timeout() + 10.0
        while self.client.status == "connecting" and time.monotonic() < deadline:
            time.sleep(0.05)
        self._check_connected()
        if self.client.status != "running":
            raise ClusterError(f"--dask {self.address}: lost the dask scheduler and could not reconnect "
                               f"within {_connect_timeout():g} s")

    def _stalled(self, seconds: float, waiting: list[int]) -> str:
        workers = len(self.client.scheduler_info().get("workers", {}))
        shown = ", ".join(map(str, waiting[:8])) + (" ..." if len(waiting) > 8 else "")
        chunks = "chunks" if len(waiting) > 1 else "chunk"
        return (f"no result for {seconds:.0f} s; waiting on {chunks} {shown} at the dask scheduler "
                f"{self.client.scheduler.address} ({workers} workers connected)")

    def close(self) -> None:
        try:
            self._unregister()
            self.client.close(timeout=10)
            if self.cluster is not None:
                self.cluster.close(timeout=10)
        finally:
            self._quiet.close()
