"""An individual's fitness from its trials: the mean, correctly rounded.

Every consumer (evaluation, validation, champion files, replay) takes the individual's fitness from
this one function, so that a champion replays to exactly its stored fitness however its trials
were batched.
"""

from __future__ import annotations

import math

import numpy as np

from evorobot._types import FloatArray


def mean_fitness(trials: FloatArray) -> float:
    """The mean of the trials' fitness, correctly rounded (``math.fsum``) when all are finite, so
    it is the same however the trials were batched or summed; NaN or infinite otherwise."""
    return math.fsum(trials) / len(trials) if np.all(np.isfinite(trials)) else float(np.mean(trials))
