"""What every evaluation backend shares: the protocol, the lost-chunk marker, the initializer.

Backends are leaves: they know nothing of experiments. The caller hands :meth:`Backend.prepare`
an *initializer*, a picklable callable of no arguments (such as ``functools.partial`` of a
module-level function) that each process runs before its first chunk: the parent and every
worker (evaluation uses it to build its Setup and compile numba there).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Protocol

from evorobot.errors import EvorobotError

Log = Callable[[str], None]
Initializer = Callable[[], None]


class ChunkFailed(NamedTuple):
    """Stands for the result of a chunk that was lost for good."""

    reason: str


class Backend(Protocol):
    """What :func:`evorobot.evolution.evaluate.evaluate` needs of a backend."""

    def prepare(self, initializer: Initializer) -> None:
        """Run ``initializer`` here and in every worker before it takes work (never fatal)."""

    def map(self, fn: Callable[[Any], Any], chunks: Iterable[Any]) -> list[Any]:
        """``[fn(c) for c in chunks]`` in order; a chunk lost for good is a :class:`ChunkFailed`."""

    def close(self) -> None:
        """Stop the workers."""

    def describe(self) -> dict[str, Any]:
        """What the manifest records of the backend."""


class WorkerError(RuntimeError):
    """``fn`` raised inside a worker (a bug): carries the worker's traceback."""


class WorkerStartError(EvorobotError):
    """Workers keep dying or hanging before they are ready (one line, exit 2: the machine or the
    environment, e.g. a stuck file system, a numba cache that cannot be written, not a bug)."""


#: Seconds a worker may take from its start to "ready" (imports, Setup, numba's cache). A cold
#: numba cache compiles every kernel: 20-40 s on a laptop core, minutes on a loaded cluster node
#: or a network file system, so the default leaves ten times the cold start measured here.
STARTUP_TIMEOUT = 300.0
#: Seconds with no result before ``map`` says what it is waiting on (at most the chunk timeout).
STALL_AFTER = 60.0


def _stderr(msg: str) -> None:
    print(f"evorobot: warning: {msg}", file=sys.stderr, flush=True)


def _initialize(initializer: Initializer | None, log: Log) -> None:
    """Run ``initializer``; a failure is logged, never fatal (a cache or compile problem shows again,
    with its traceback, when the chunk runs).

    Then ``gc.freeze()``: what is alive after the warm-up (numba's compiler and type registries,
    the Setup) lives as long as the process, and a full collection that scans it costs 60-95 ms,
    a chunk's worth of time every ~6 chunks, which leaves one worker idle at a generation's end.
    Frozen, full collections scan only what chunks allocate (~20 ms per generation)."""
    if initializer is None:
        return
    try:
        initializer()
    except Exception as exc:
        log(f"worker initializer failed in process {os.getpid()} ({exc!r}); continuing")
    gc.collect()
    gc.freeze()
