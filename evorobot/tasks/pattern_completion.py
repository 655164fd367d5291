"""Pattern completion: recall a stored bipolar pattern from a corrupted cue (after Hopfield 1982).

Description
    The content-addressable memory task of Hopfield (1982), given to an evolved network: ``patterns``
    random bipolar patterns ``xi`` of ``units`` units are fixed by ``data_seed``; a trial presents
    one pattern with a fraction ``noise`` of its units flipped (exactly ``round(noise units)``
    distinct units) for ``cue_steps`` ticks, then zeros (or the cue held, ``hold = true``) for
    ``settle_steps`` ticks, and reads the network's state at the last tick. The patterns must be
    held in the evolved weights, as a Hopfield network holds them in its Hebbian ones.
Inputs
    ``units`` inputs, the cue as ``(xi~_i + 1) / 2`` in {0, 1}, then 0 (or the cue).
Outputs
    ``units`` outputs ``o_i`` in [0, 1], read as ``s_i = 2 o_i - 1`` at the last tick.
Fitness
    Per trial the graded overlap ``(1/N) sum_i xi_i (2 o_i - 1)`` in [-1, 1]; mean over trials;
    a non-finite output fails the trial (-1, the worst). Held-out test: ``overlap``, the
    Hopfield overlap ``m = (1/N) sum_i xi_i sign(s_i)`` averaged over fresh corruptions (a failed
    trial counts -1). Copying a cue scores ``1 - 2 noise``; only completion does better.
Trials
    ``train_cues`` corruptions of each pattern (``patterns x train_cues`` trials, fixed); the test
    split has ``test_cues`` other corruptions of each pattern, from an independent stream.
Termination
    After ``cue_steps + settle_steps`` ticks.
References
    Hopfield, J.J. (1982) Neural networks and physical systems with emergent collective
    computational abilities. PNAS 79:2554-2558 (overlap, corrupted cues). Amit, Gutfreund &
    Sompolinsky (1985) for the overlap as the recall measure. Adapted: no Hebbian rule and no
    asynchronous updates: any evolved recurrent network is scored on the same recall measure;
    the settle phase stands for the relaxation to a fixed point.
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
from evorobot.tasks.datasets import corrupted_patterns
from evorobot.tasks.sequence import SequenceData, SequenceTask, split_rngs

__all__ = ["PatternCompletion", "PatternCompletionSpec"]


@dataclass(frozen=True)
class PatternCompletionSpec:
    """``[task]`` settings of pattern completion."""

    data_seed: int = setting(0, ge=0, doc="seed of the patterns and their corruptions")
    patterns: int = setting(3, ge=1, doc="stored patterns P")
    units: int = setting(16, ge=1, doc="units per pattern N (inputs and outputs)")
    noise: float = setting(0.125, ge=0, le=0.5, doc="fraction of a cue's units flipped")
    train_cues: int = setting(4, ge=1, doc="corrupted cues per pattern in the train split")
    test_cues: int = setting(8, ge=1, doc="corrupted cues per pattern in the test split")
    cue_steps: int = setting(2, ge=1, doc="ticks the cue is shown")
    settle_steps: int = setting(4, ge=0, doc="ticks after the cue before the read-out")
    hold: bool = setting(False, doc="keep showing the cue while settling (else zeros)")


class PatternCompletion(SequenceTask):
    """Recall of stored patterns from corrupted cues (see the module docstring)."""

    name = "pattern_completion"
    Spec = PatternCompletionSpec
    held_out_metric = "overlap"
    worst = -1.0

    def __init__(self, spec: PatternCompletionSpec, agent: AgentSpec | None, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        self.input_names = tuple(f"cue_{i}" for i in range(spec.units))
        self.output_names = tuple(f"unit_{i}" for i in range(spec.units))
        pattern_rng, train_rng, test_rng = split_rngs(spec.data_seed, 3)
        self.patterns = np.where(pattern_rng.random((spec.patterns, spec.units)) < 0.5, -1.0, 1.0)
        flips = round(spec.noise * spec.units)
        self.set_data(self._split(corrupted_patterns(self.patterns, spec.train_cues, flips, train_rng)),
                      self._split(corrupted_patterns(self.patterns, spec.test_cues, flips, test_rng)))

    def _split(self, cues: FloatArray) -> SequenceData:
        """Trials of ``cues`` (P, C, N), pattern-major; the pattern is the target at the last tick."""
        spec = self.spec
        p, c, n = cues.shape
        ticks = spec.cue_steps + spec.settle_steps
        x = np.zeros((p * c, ticks, n))
        x[:, : spec.cue_steps] = ((cues.reshape(p * c, n) + 1.0) / 2.0)[:, None, :]
        if spec.hold:
            x[:, spec.cue_steps:] = x[:, :1]
        y = np.zeros((p * c, ticks, n))
        y[:, -1] = np.repeat((self.patterns + 1.0) / 2.0, c, axis=0)
        weights = np.zeros((p * c, ticks))
        weights[:, -1] = 1.0
        return SequenceData(x, y, weights, np.full(p * c, ticks, dtype=np.int64))

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        return np.where(scores.failed, self.worst, self.mean_of(scores, "overlap"))

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        return {"overlap": np.where(scores.failed, -1.0, self.mean_of(scores, "sign_overlap"))}

    def held_out_score(self, scores: Scores, conditions: FloatArray) -> float:
        return self.held_out_mean(scores, conditions, "sign_overlap", failed_value=-1.0)
