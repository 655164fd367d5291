"""Temporal XOR: predict the next bit of a stream of triples ``(a, b, a xor b)`` (Elman 1990).

Description
    A stream of bits made of triples: two random bits ``a``, ``b``, then ``a xor b``. The network
    reads one bit per tick and predicts the next one; only the third bit of each triple is
    predictable (from the two before it), the others are fair coins.
Inputs
    One: bit ``t`` of the stream at tick t, in {0, 1}.
Outputs
    One, ``o(t)`` in [0, 1]: the prediction of bit ``t + 1``.
Fitness
    Scored only on the predictable positions (``t + 1`` the third bit of a triple, i.e.
    ``t mod 3 = 1``): per trial ``1 - mean (o - bit)^2`` over them. Mean over trials; a trial
    with a non-finite output fails and scores 0. Held-out test: ``bit_error``, the fraction of
    predictable test bits predicted wrong at threshold 0.5 (chance: 0.5).
Trials
    ``train_sequences`` fixed streams of ``triples`` triples (``3 triples - 1`` ticks each: the last
    bit has no successor); ``test_sequences`` streams from an independent stream of ``data_seed``.
    Each stream starts at a triple's first bit, so the network can keep the phase by counting.
Termination
    After the stream's last input.
References
    Elman, J.L. (1990) Finding structure in time. Cognitive Science 14(2):179-211 (section
    "Exclusive-Or": one stream of 3000 bits, an Elman net of 1 input, 2 hidden and 1 output unit
    trained by back-propagation [check the sizes]; its error drops on every third bit). Adapted:
    the network is evolved, on several shorter streams; the score counts the predictable bits
    only (Elman reports the error on every bit, periodic with the triples).
Version
    1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.spec import setting
from evorobot.tasks.base import Scores
from evorobot.tasks.datasets import temporal_xor
from evorobot.tasks.sequence import SequenceData, SequenceTask, split_rngs

__all__ = ["TemporalXor", "TemporalXorSpec"]


@dataclass(frozen=True)
class TemporalXorSpec:
    """``[task]`` settings of temporal XOR."""

    data_seed: int = setting(0, ge=0, doc="seed of the generated bit streams")
    train_sequences: int = setting(4, ge=1, doc="train streams (one trial each)")
    test_sequences: int = setting(4, ge=1, doc="held-out test streams")
    triples: int = setting(50, ge=1, doc="triples per stream")


def xor_split(bits: FloatArray) -> SequenceData:
    """Sequences of input bit t and target bit t + 1, scored where t mod 3 = 1."""
    n, length = bits.shape
    weights = np.zeros((n, length - 1))
    weights[:, 1::3] = 1.0
    return SequenceData(bits[:, :-1, None], bits[:, 1:, None], weights, np.full(n, length - 1, dtype=np.int64))


class TemporalXor(SequenceTask):
    """Elman's temporal XOR (see the module docstring)."""

    name = "temporal_xor"
    Spec = TemporalXorSpec
    input_names = ("bit",)
    output_names = ("next_bit",)
    held_out_metric = "bit_error"

    def __init__(self, spec: TemporalXorSpec, agent: AgentSpec | None, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        train_rng, test_rng = split_rngs(spec.data_seed)
        self.set_data(xor_split(temporal_xor(spec.train_sequences, spec.triples, train_rng)),
                      xor_split(temporal_xor(spec.test_sequences, spec.triples, test_rng)))

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        return np.where(scores.failed, self.worst, 1.0 - self.mean_of(scores, "sse"))

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        return {"bit_error": 1.0 - self.mean_of(scores, "correct")}

    def held_out_score(self, scores: Scores, conditions: FloatArray) -> float:
        return 1.0 - self.held_out_mean(scores, conditions, "correct", failed_value=0.0)
