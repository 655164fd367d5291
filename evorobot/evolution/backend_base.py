"""What every evaluation backend shares: the protocol, the lost-chunk marker, numba warm-up."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Protocol

Log = Callable[[str], None]


class ChunkFailed(NamedTuple):
    """Stands for the result of a chunk that was lost for good."""

    reason: str


class Backend(Protocol):
    """What :func:`evorobot.evolution.evaluate.evaluate` needs of a backend."""

    def prepare(self, experiment_json: str) -> None: ...

    def map(self, fn: Callable[[Any], Any], chunks: Iterable[Any]) -> list[Any]: ...

    def close(self) -> None: ...

    def describe(self) -> dict[str, Any]: ...


class WorkerError(RuntimeError):
    """``fn`` raised inside a worker (a bug): carries the worker's traceback."""


def _stderr(msg: str) -> None:
    print(f"evorobot: warning: {msg}", file=sys.stderr, flush=True)


def _warm(exp_json: str, log: Log) -> None:
    try:
        from evorobot.evolution.evaluate import setup_for, warm_up

        warm_up(setup_for(exp_json))
    except Exception as exc:  # a cache or compile problem shows again, with its traceback, in map()
        log(f"numba warm-up failed in process {os.getpid()} ({exc!r}); continuing")
