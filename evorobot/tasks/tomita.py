"""Tomita grammars: accept or reject a binary string read one symbol per tick (Tomita 1982).

Description
    The seven regular languages over {0, 1} of Tomita (1982), the classic benchmark of grammatical
    inference by recurrent networks (Pollack 1991; Giles et al. 1992; Watrous & Kuhn 1992):
    1 = ``1*``; 2 = ``(10)*``; 3 = no odd-length run of 1s followed later by an odd-length run of
    0s (runs maximal); 4 = no ``000``; 5 = even numbers of 0s and of 1s; 6 = (#0 - #1) divisible by
    3; 7 = ``0*1*0*1*``. Membership comes from each grammar's DFA
    (:data:`~evorobot.tasks.datasets.TOMITA_DFAS`).
Inputs
    Three, one-hot: ``(1, 0, 0)`` for 0, ``(0, 1, 0)`` for 1, and the end marker ``(0, 0, 1)`` on
    the tick after the last symbol (the empty string is one tick: the end marker).
Outputs
    One, ``o`` in [0, 1], read at the end-marker tick: accept when ``o > 0.5``.
Fitness
    Per trial (one string) ``1 - (o - label)^2`` (graded), label 1 for a member, times the class
    weight ``n / (2 n_class)`` of its class in the split, so that the mean over trials weighs
    members and non-members equally (rejecting everything scores 0.5 whatever the class balance);
    a non-finite output fails the trial (0). Held-out test: ``balanced_accuracy`` on the test
    strings, the mean of the accuracy on members and on non-members (0.5 for a constant answer;
    plain accuracy when a split has one class only).
Trials
    ``train_strings`` distinct strings of length 0 to ``train_max_length`` (10), fixed; the test
    split is ``test_strings`` distinct strings of length ``test_min_length`` to
    ``test_max_length`` (11 to 14), longer than any trained on. Both are drawn from ``data_seed``,
    half members and half non-members where there are enough of each (grammars 1 and 2 have few
    members: all are taken, the rest are non-members, so the test accuracy of always rejecting
    is high there; :meth:`Tomita.class_balance` gives the split's member fraction).
Termination
    After the end marker.
References
    Tomita, M. (1982) Dynamic construction of finite automata from examples using hill-climbing.
    Proc. 4th Annual Cognitive Science Conference, 105-108. Giles, C.L. et al. (1992) Learning and
    extracting finite state automata with second-order recurrent neural networks. Neural
    Computation 4(3):393-405. Adapted: Tomita's hand-picked training sets are replaced by random
    balanced samples of all strings up to length 10, and the test by longer strings (the usual
    generalisation test); grammar 3's definition follows TASKS.md ("followed later"), which
    reproduces Tomita's negative examples such as 0111001101 [check against Tomita 1982].
Version
    1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evorobot._types import BoolArray, FloatArray, IntArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.spec import setting
from evorobot.tasks.base import Scores
from evorobot.tasks.datasets import tomita_sample
from evorobot.tasks.sequence import SequenceData, SequenceTask, split_rngs

__all__ = ["Tomita", "TomitaSpec", "tomita_split"]


@dataclass(frozen=True)
class TomitaSpec:
    """``[task]`` settings of the Tomita grammars."""

    grammar: int = setting(4, ge=1, le=7, doc="Tomita grammar 1-7")
    data_seed: int = setting(0, ge=0, doc="seed of the sampled train and test strings")
    train_strings: int = setting(100, ge=2, doc="train strings (one trial each)")
    train_max_length: int = setting(10, ge=1, le=16, doc="train strings have length 0 to this")
    test_strings: int = setting(1000, ge=2, doc="held-out test strings")
    test_min_length: int = setting(11, ge=0, le=16, doc="shortest test string")
    test_max_length: int = setting(14, ge=0, le=16, doc="longest test string")


def tomita_split(strings: IntArray, lengths: IntArray, labels: BoolArray) -> SequenceData:
    """One-hot sequences of ``strings`` (n, L) padded with -1, then the end marker, scored there."""
    n, width = strings.shape
    rows = np.arange(n)
    x = np.zeros((n, width + 1, 3))
    t = np.arange(width)[None, :]
    live = t < lengths[:, None]
    x[:, :-1, 0] = live & (strings == 0)
    x[:, :-1, 1] = live & (strings == 1)
    x[rows, lengths, 2] = 1.0
    weights = np.zeros((n, width + 1))
    weights[rows, lengths] = 1.0
    y = np.zeros((n, width + 1, 1))
    y[rows, lengths, 0] = labels
    return SequenceData(x, y, weights, lengths + 1)


class Tomita(SequenceTask):
    """Recognition of a Tomita grammar (see the module docstring)."""

    name = "tomita"
    Spec = TomitaSpec
    input_names = ("zero", "one", "end")
    output_names = ("accept",)
    held_out_metric = "balanced_accuracy"

    def __init__(self, spec: TomitaSpec, agent: AgentSpec | None, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if spec.test_min_length > spec.test_max_length:
            raise ConfigError(f"{where}: `test_min_length` = {spec.test_min_length} exceeds "
                              f"`test_max_length` = {spec.test_max_length}")
        train_rng, test_rng = split_rngs(spec.data_seed)
        self.train = tomita_sample(spec.grammar, 0, spec.train_max_length, spec.train_strings, train_rng)
        self.test = tomita_sample(spec.grammar, spec.test_min_length, spec.test_max_length, spec.test_strings,
                                  test_rng)
        self.set_data(tomita_split(*self.train), tomita_split(*self.test))
        self._labels = (self.train[2].astype(bool), self.test[2].astype(bool))
        self._weights = tuple(class_weights(labels) for labels in self._labels)

    def _split_of(self, conditions: FloatArray) -> tuple[BoolArray, FloatArray]:
        """Labels and class weights (W,) of the trials' strings."""
        split, index = conditions[:, 0].astype(np.int64), conditions[:, 1].astype(np.int64)
        labels = np.where(split == 0, self._labels[0][np.minimum(index, len(self._labels[0]) - 1)],
                          self._labels[1][np.minimum(index, len(self._labels[1]) - 1)])
        weights = np.where(split == 0, self._weights[0][np.minimum(index, len(self._weights[0]) - 1)],
                           self._weights[1][np.minimum(index, len(self._weights[1]) - 1)])
        return labels, weights

    def class_balance(self) -> tuple[float, float]:
        """Fraction of members among the train and among the test strings."""
        return float(self.train[2].mean()), float(self.test[2].mean())

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        _, weights = self._split_of(conditions)
        return np.where(scores.failed, self.worst, weights * (1.0 - self.mean_of(scores, "sse")))

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        return {"correct": np.where(scores.failed, 0.0, self.mean_of(scores, "correct"))}

    def held_out_score(self, scores: Scores, conditions: FloatArray) -> float:
        """Balanced accuracy: the mean of the accuracy on members and on non-members."""
        labels, _ = self._split_of(conditions)
        correct = np.where(scores.failed, 0.0, self.mean_of(scores, "correct"))
        classes = [correct[labels == c] for c in (True, False) if np.any(labels == c)]
        return float(np.mean([c.mean() for c in classes]))


def class_weights(labels: BoolArray) -> FloatArray:
    """``n / (2 n_class)`` per string: weighted, each class counts half of the mean (1 with one class)."""
    n, members = len(labels), int(labels.sum())
    if members in (0, n):
        return np.ones(n)
    return np.where(labels, n / (2.0 * members), n / (2.0 * (n - members)))
