"""The held-out test of a task with a test split (task contract item 7).

A sequence data set trains on its train split and reports its score (NRMSE, accuracy, bit error)
on a test split evolution never saw; pole balancing reports its generalisation test. The score is
computed here, in the one episode loop, for one genome: champion files store it and
``evorobot replay`` recomputes and prints it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from evorobot._types import FloatArray
from evorobot.episode import Episode
from evorobot.setup import Setup


class HeldOut(NamedTuple):
    """A genome's held-out test score and its name."""

    metric: str
    score: float


def held_out(setup: Setup, genome: FloatArray) -> HeldOut | None:
    """Run ``genome`` (G,) on the task's held-out trials; None when the task has no test split."""
    conditions = setup.task.held_out_conditions()
    if conditions is None:
        return None
    episode = Episode(setup, np.asarray(genome, dtype=np.float64)[None, :], conditions)
    episode.run()
    return HeldOut(setup.task.held_out_metric, float(setup.task.held_out_score(episode.scores, episode.conditions)))
