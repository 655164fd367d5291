"""Framewise labelling: label each frame of a Gaussian stream by the sign of a window around it.

Description
    The artificial data of Schuster & Paliwal (1997), made to show what a bidirectional network
    gains over a causal one: ``x(t) ~ N(0, 1)`` i.i.d. and ``label(t) = [sum_{k=-5..5} x(t + k) > 0]``
    (``half_width`` = 5), which depends on five future frames. A causal network reading frame t
    at tick t sees 6 of the 11 terms: its Bayes accuracy is ``1/2 + arctan(sqrt(6/5)) / pi`` =
    76.4 %. Our controllers are causal, so the label of frame t can be asked ``delay`` ticks
    later, at tick ``t + delay``: then ``6 + delay`` terms are seen and the ceiling is
    ``1/2 + arctan(sqrt((6 + d) / (5 - d))) / pi`` for ``d < 5`` (:meth:`Framewise.ceiling`),
    100 % from ``delay = 5`` on (the sum is then known).
Inputs
    One: ``x(s)`` at tick s.
Outputs
    One, ``o`` in [0, 1]: at tick ``t + delay``, the label of frame t (1 for a positive sum).
Fitness
    Per trial ``1 - mean (o - label)^2`` over its labelled frames (graded); mean over trials; a
    non-finite output fails the trial (0). Held-out test: ``accuracy`` (``o > 0.5`` against
    the label) over every test frame.
Trials
    ``train_sequences`` fixed streams; each labels ``frames`` frames, ``half_width .. half_width
    + frames - 1`` (every labelled frame has its whole window in the stream), so a trial lasts
    ``frames + half_width + delay`` ticks; the first ``half_width + delay`` are not scored.
    ``test_sequences`` test streams from an independent stream of ``data_seed``.
Termination
    After the last labelled frame's tick.
References
    Schuster, M. & Paliwal, K.K. (1997) Bidirectional recurrent neural networks. IEEE Trans.
    Signal Processing 45(11):2673-2681 (its experiments on artificial data [check the section
    and the window]). Adapted: the network is causal and evolved; the ``delay`` setting stands
    for the paper's unidirectional networks whose output is delayed by a few frames to see some
    future context [check the delays the paper uses].
Version
    1
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.spec import setting
from evorobot.tasks.base import Scores
from evorobot.tasks.datasets import framewise
from evorobot.tasks.sequence import SequenceData, SequenceTask, split_rngs

__all__ = ["Framewise", "FramewiseSpec", "framewise_split"]


@dataclass(frozen=True)
class FramewiseSpec:
    """``[task]`` settings of framewise labelling."""

    data_seed: int = setting(0, ge=0, doc="seed of the generated streams")
    train_sequences: int = setting(4, ge=1, doc="train streams (one trial each)")
    test_sequences: int = setting(4, ge=1, doc="held-out test streams")
    frames: int = setting(200, ge=1, doc="labelled frames per stream")
    half_width: int = setting(5, ge=0, doc="the label sums x(t - half_width .. t + half_width)")
    delay: int = setting(0, ge=0, doc="ticks between a frame's input and the request of its label")


def framewise_split(n: int, frames: int, half_width: int, delay: int, rng: np.random.Generator) -> SequenceData:
    """``n`` streams; the label of frame ``half_width + j`` is the target of tick ``half_width + j + delay``."""
    x, labels = framewise(n, frames, rng, half_width=half_width, tail=max(0, delay - half_width))
    ticks = frames + half_width + delay
    first = half_width + delay
    y = np.zeros((n, ticks, 1))
    y[:, first:, 0] = labels
    weights = np.zeros((n, ticks))
    weights[:, first:] = 1.0
    return SequenceData(x[:, :ticks, None], y, weights, np.full(n, ticks, dtype=np.int64))


class Framewise(SequenceTask):
    """Framewise labelling of a Gaussian stream (see the module docstring)."""

    name = "framewise"
    Spec = FramewiseSpec
    input_names = ("x",)
    output_names = ("label",)
    held_out_metric = "accuracy"

    def __init__(self, spec: FramewiseSpec, agent: AgentSpec | None, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        train_rng, test_rng = split_rngs(spec.data_seed)
        hw, d = spec.half_width, spec.delay
        self.set_data(framewise_split(spec.train_sequences, spec.frames, hw, d, train_rng),
                      framewise_split(spec.test_sequences, spec.frames, hw, d, test_rng))

    def ceiling(self) -> float:
        """The Bayes accuracy of a causal reader with this ``delay``: 1/2 + arctan(sqrt(seen /
        unseen)) / pi with ``seen = half_width + 1 + delay`` of the ``2 half_width + 1`` terms."""
        hw = self.spec.half_width
        seen = hw + 1 + self.spec.delay
        unseen = 2 * hw + 1 - seen
        return 1.0 if unseen <= 0 else 0.5 + math.atan(math.sqrt(seen / unseen)) / math.pi

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        return np.where(scores.failed, self.worst, 1.0 - self.mean_of(scores, "sse"))

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        return {"accuracy": np.where(scores.failed, 0.0, self.mean_of(scores, "correct"))}

    def held_out_score(self, scores: Scores, conditions: FloatArray) -> float:
        return self.held_out_mean(scores, conditions, "correct", failed_value=0.0)
