"""The trainer contract.

A trainer fits a controller's genes to a task's data by a method other than evolution: closed-form
regression (:mod:`evorobot.training.ridge`) now, gradient descent (BPTT, truncated BPTT, RTRL, the
continuous adjoint) later (ARCHITECTURE.md section 8). It is chosen like an optimizer, by the
``type`` of the world file's ``[optimizer]`` table, and :func:`evorobot.training.run.train` writes
the same run directory as an evolution run (``manifest.json``, ``config.json``, ``history.csv``
with one row per epoch, ``champion.json``), so that ``evorobot replay RUN`` replays its champion
bit for bit and prints the held-out score.

A trainer type must provide:

1. ``name``: its registry key in :data:`evorobot.training.TRAINERS`, and ``Spec``: a frozen
   settings dataclass parsed from the ``[optimizer]`` table with :func:`evorobot.spec.parse` (the
   ``type`` key is the registry's).
2. ``__init__(spec, setup, where)``: check that the set-up (its controller and its task) can be
   trained this way, raising a one-line :class:`~evorobot.errors.ConfigError` that names ``where``
   (the world file's ``[optimizer]`` table) otherwise. Nothing is written before this passes.
   Controllers declare what a trainer may use in their contract (:mod:`evorobot.controllers.base`,
   item 11 for a closed-form readout); a trainer never discovers hooks with ``getattr``.
3. ``epochs()``: train, yielding one :class:`Epoch` per epoch: the genome (``genome_size``,) in
   [-1, 1] that the epoch produced, the trainer's own training loss, and JSON-ready notes. The
   epochs are a function of the set-up alone (deterministic; never of the number of workers).

4. Optionally, ``state_dict()`` / ``load_state_dict(state)``: a trainer of several epochs returns
   everything its next epochs depend on (JSON-ready values and numpy arrays at the top level),
   and continues from such a state restored before ``epochs()`` is called, bit for bit; the
   run loop checkpoints it after every epoch (:func:`evorobot.training.run.resume_training`).
   The default ``None`` says the trainer's run is not resumed (a one-epoch trainer).

The caller, not the trainer, scores each epoch's genome through the normal evaluation (the episode
loop, on the task's training trials and on its held-out test), keeps the best as the champion and
writes the files: the stored fitness is exactly what a replay computes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from evorobot._types import FloatArray

if TYPE_CHECKING:
    from evorobot.setup import Setup

__all__ = ["Epoch", "Trainer"]


class Epoch(NamedTuple):
    """What one epoch of training produced."""

    genome: FloatArray
    """(genome_size,) genes in [-1, 1]."""
    loss: float
    """The trainer's training loss (its own objective on its own training data)."""
    notes: dict[str, Any]
    """JSON-ready facts of the epoch, for the run's manifest and its progress line."""


class Trainer(ABC):
    """Abstract base of every trainer type (see the module docstring for the contract)."""

    name: ClassVar[str]
    Spec: ClassVar[type]

    def __init__(self, spec: Any, setup: Setup, where: str) -> None:
        self.spec, self.setup, self.where = spec, setup, where

    @abstractmethod
    def epochs(self) -> Iterator[Epoch]:
        """Train; yield each epoch's genome, loss and notes (contract item 3)."""

    def state_dict(self) -> dict[str, Any] | None:
        """The state after the last epoch yielded (item 4); None: not resumable (the default)."""
        return None

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state`` (item 4); only a trainer whose :meth:`state_dict` is not None."""
        raise NotImplementedError(f"trainer `{self.name}` has no state to restore")

    @staticmethod
    def describe(notes: dict[str, Any]) -> str:
        """One line of an epoch's notes for the progress stream (override to word it)."""
        return ", ".join(f"{k} {v}" for k, v in notes.items())
