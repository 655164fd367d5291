"""Hebbian storage of an associative memory (``[optimizer] type = "hebbian"``).

Hopfield, J.J. (1982). Neural networks and physical systems with emergent collective
computational abilities. PNAS 79: 2554-2558 (``T_ij = sum_s (2V_i^s - 1)(2V_j^s - 1)``, zero
diagonal). Kosko, B. (1988). Bidirectional associative memories. IEEE Trans. Systems, Man and
Cybernetics 18(1): 49-60 (``M = sum_k X_k^T Y_k``).

For a controller that stores bipolar pairs (contract item 13 of
:mod:`evorobot.controllers.base`: a ``hopfield`` network, auto-associative, or a ``bam``,
hetero-associative) on the pattern-completion task
(:class:`~evorobot.tasks.pattern_completion.PatternCompletion`), the memory is written in one step
from the task's stored patterns: each pattern is both the cue (the X layer of a BAM; a Hopfield
net is cued by its starting state) and what is recalled. There is nothing to iterate: one epoch,
whose training loss is the fraction of the stored patterns that are *not* fixed points of one
synchronous recall through the stored weights (0 for a memory well below capacity; it says how
far the load is past the knee, Amit, Gutfreund & Sompolinsky 1985). The fitness and held-out
overlap come from the normal evaluation of the genome (corrupted cues, through the episode), so a
replay reproduces them bit for bit. The result depends on the task's ``data_seed`` alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from evorobot.errors import ConfigError
from evorobot.tasks.pattern_completion import PatternCompletion
from evorobot.training.base import Epoch, Trainer

if TYPE_CHECKING:
    from evorobot.setup import Setup

__all__ = ["Hebbian", "HebbianSpec", "unstable_fraction"]


@dataclass(frozen=True)
class HebbianSpec:
    """``[optimizer]`` settings of Hebbian storage (none: the rule has no parameters)."""


def unstable_fraction(patterns: np.ndarray) -> float:
    """Fraction of bipolar ``patterns`` (P, N) that one synchronous update through their own
    Hebbian matrix (zero diagonal) does not leave unchanged (a net input of 0 keeps the unit)."""
    w = patterns.T @ patterns
    np.fill_diagonal(w, 0.0)
    field = patterns @ w
    recalled = np.where(field > 0, 1.0, np.where(field < 0, -1.0, patterns))
    return float(np.mean(np.any(recalled != patterns, axis=1)))


class Hebbian(Trainer):
    """Hebbian outer-product storage of the task's patterns (see the module docstring)."""

    name = "hebbian"
    Spec = HebbianSpec

    def __init__(self, spec: HebbianSpec, setup: Setup, where: str) -> None:
        super().__init__(spec, setup, where)
        if not isinstance(setup.task, PatternCompletion):
            raise ConfigError(f"{where}: `hebbian` stores the patterns of a `pattern_completion` task, "
                              f"not of `{setup.task.name}`")
        if setup.morphology_size:
            raise ConfigError(f"{where}: `hebbian` cannot set evolved sensor-morphology genes")
        self.patterns = setup.task.patterns
        # the controller refuses here, before anything is written, if it stores no pairs
        self.genome = setup.controller.store_pairs(self.patterns, self.patterns, where)

    def epochs(self) -> Iterator[Epoch]:
        unstable = unstable_fraction(self.patterns)
        yield Epoch(self.genome, unstable, {"patterns": int(self.patterns.shape[0]),
                                            "units": int(self.patterns.shape[1]), "unstable": unstable})
