"""The shared base of the sequence data-set tasks: :class:`SequenceTask`, a :class:`DynamicsTask`.

A sequence task holds its data as padded arrays built once at ``__init__`` from the spec's
``data_seed`` (:class:`SequenceData`: inputs, targets, per-tick score weights and lengths), the
train split's rows first, then the test split's. A trial's conditions row is ``(split, index)``
(0 = train, 1 = test), so a trial's data is fixed by its row alone. Each tick, one numba call
presents element ``step`` of every trial's sequence (:func:`_observe`), and one scores the
network's outputs against the targets of that element (:func:`_advance`), accumulating, per trial
and over the scored (tick, output) elements with weight ``w``:

====  ==========================================================================
0     ``sum w (o - y)^2``                     (squared error)
1     ``sum w``                               (scored elements)
2     ``sum w [(o > 0.5) == (y > 0.5)]``      (correct at threshold 0.5)
3     ``sum w [|o - y| < tolerance]``         (within the task's tolerance)
4     ``sum w (2 o - 1)(2 y - 1)``            (graded bipolar overlap)
5     ``sum w sign(2 o - 1)(2 y - 1)``        (overlap of the signs)
====  ==========================================================================

A trial is done after its last element (sequences of different lengths are padded with zeros and
end on their own tick); a non-finite output on any tick marks it failed (it scores ``worst``).
With ``feedback_from`` set, from that tick on the input ``feedback_input`` is the trial's previous
output ``feedback_output`` instead of the data (free-running generation, :class:`MackeyGlass`).
Subclasses build the data, then call :meth:`SequenceTask.set_data`, and define ``fitness`` and
``held_out_score`` from the accumulators.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit

from evorobot._types import BoolArray, FloatArray, IntArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.tasks.base import DynamicsTask, Scores, TaskIO

__all__ = ["N_ACC", "SEQ", "PredictionTask", "SequenceData", "SequenceState", "SequenceTask", "split_rngs"]

SEQ = {"sse": 0, "n": 1, "correct": 2, "within": 3, "overlap": 4, "sign_overlap": 5}
"""Column of each accumulator in ``scores.values``."""
N_ACC = len(SEQ)
NO_FEEDBACK = np.iinfo(np.int64).max


class SequenceData(NamedTuple):
    """One split's sequences, padded to a common length T."""

    inputs: FloatArray  # (R, T, n_in)
    targets: FloatArray  # (R, T, n_out)
    weights: FloatArray  # (R, T) score weight of each tick (0: not scored)
    lengths: IntArray  # (R,) ticks of each sequence

    @staticmethod
    def concat(*parts: SequenceData) -> SequenceData:
        """The rows of ``parts`` in order, padded with zeros to the longest."""
        t = max(p.inputs.shape[1] for p in parts)

        def pad(a: FloatArray) -> FloatArray:
            width = [(0, 0), (0, t - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
            return np.pad(a, width)

        return SequenceData(
            np.ascontiguousarray(np.concatenate([pad(p.inputs) for p in parts]), dtype=np.float64),
            np.ascontiguousarray(np.concatenate([pad(p.targets) for p in parts]), dtype=np.float64),
            np.ascontiguousarray(np.concatenate([pad(p.weights) for p in parts]), dtype=np.float64),
            np.concatenate([p.lengths for p in parts]).astype(np.int64))


class SequenceState(NamedTuple):
    """Every trial's data row and its last outputs and targets."""

    row: IntArray  # (W,) row of the trial in the task's data
    last: FloatArray  # (W, n_out) outputs of the previous tick (the feedback of free running)
    target: FloatArray  # (W,) the first target of the last tick (for ``replay --trace``)


def split_rngs(data_seed: int, n: int = 2) -> list[np.random.Generator]:
    """``n`` independent generators from ``data_seed`` (the train split's, the test split's, ...):
    changing the size of one split leaves the others unchanged."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(data_seed).spawn(n)]


@njit(cache=True)
def _observe(inputs_data: FloatArray, row: IntArray, lengths: IntArray, last: FloatArray, step: int,
             feedback_from: int, feedback_input: int, feedback_output: int, inputs: FloatArray) -> None:
    """Write element ``step`` of every trial's sequence into ``inputs`` (W, n_in) (zeros after its end)."""
    n_in = inputs.shape[1]
    for w in range(row.shape[0]):
        r = row[w]
        if step < lengths[r]:
            for k in range(n_in):
                inputs[w, k] = inputs_data[r, step, k]
        else:
            for k in range(n_in):
                inputs[w, k] = 0.0
        if step >= feedback_from:
            inputs[w, feedback_input] = last[w, feedback_output]


@njit(cache=True)
def _advance(targets: FloatArray, weights: FloatArray, lengths: IntArray, row: IntArray,
             outputs: FloatArray, step: int, tolerance: float, last: FloatArray, target: FloatArray,
             done: BoolArray, failed: BoolArray, values: FloatArray) -> None:
    """Score every live trial's outputs (W, n_out) against element ``step`` (see the module table)."""
    n_out = outputs.shape[1]
    for w in range(row.shape[0]):
        if done[w] or failed[w]:
            continue
        r = row[w]
        finite = True
        for k in range(n_out):
            if not np.isfinite(outputs[w, k]):
                finite = False
        if not finite:
            failed[w] = True
            continue
        wt = weights[r, step]
        target[w] = targets[r, step, 0]
        for k in range(n_out):
            o = outputs[w, k]
            last[w, k] = o
            if wt != 0.0:
                y = targets[r, step, k]
                e = o - y
                values[w, 0] += wt * e * e
                values[w, 1] += wt
                if (o > 0.5) == (y > 0.5):
                    values[w, 2] += wt
                if abs(e) < tolerance:
                    values[w, 3] += wt
                s = 2.0 * o - 1.0
                b = 2.0 * y - 1.0
                values[w, 4] += wt * s * b
                if s > 0.0:
                    values[w, 5] += wt * b
                elif s < 0.0:
                    values[w, 5] -= wt * b
        if step + 1 >= lengths[r]:
            done[w] = True


class SequenceTask(DynamicsTask):
    """Abstract base of the sequence data-set tasks (see the module docstring).

    Subclasses set ``name``, ``Spec``, the interface names (``input_names``, ``output_names``),
    build their splits and call :meth:`set_data`, and define ``fitness`` and ``held_out_score``.
    """

    condition_names = ("split", "index")
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()
    tolerance: float = 0.0
    """Threshold of accumulator 3 (``|o - y| < tolerance``)."""
    feedback_from: int = NO_FEEDBACK
    feedback_input: int = 0
    feedback_output: int = 0

    def __init__(self, spec: Any, agent: AgentSpec | None, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if agent is not None:
            raise ConfigError(f"{where}: task `{self.name}` brings its own data; remove the [agent] table")
        self.data: SequenceData
        self.n_train = 0
        self.n_test = 0

    def set_data(self, train: SequenceData, test: SequenceData) -> None:
        """Hold the train rows then the test rows (each trial reads its own row)."""
        self.data = SequenceData.concat(train, test)
        self.n_train, self.n_test = train.lengths.shape[0], test.lengths.shape[0]

    @property
    def interface(self) -> TaskIO:
        return TaskIO(self.input_names, self.output_names)

    @property
    def n_trials(self) -> int:
        return self.n_train

    @property
    def max_steps(self) -> int:
        return int(self.data.lengths.max())

    @staticmethod
    def rows(split: int, index: IntArray) -> FloatArray:
        """Conditions rows ``(split, index)`` (n, 2) of the given indices."""
        index = np.asarray(index, dtype=np.float64)
        return np.stack([np.full(index.shape, float(split)), index], axis=1)

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        """Every train sequence, in order (a fixed training set; ``rng`` is not used)."""
        return self.rows(0, np.arange(self.n_train))

    def held_out_conditions(self) -> FloatArray | None:
        """Every test sequence, in order."""
        return self.rows(1, np.arange(self.n_test))

    def data_rows(self, conditions: FloatArray) -> IntArray:
        """Row of each trial (W,) in :attr:`data`, from its conditions ``(split, index)``."""
        split = conditions[:, 0].astype(np.int64)
        return np.where(split == 0, 0, self.n_train) + conditions[:, 1].astype(np.int64)

    def new_state(self, conditions: FloatArray) -> SequenceState:
        w = conditions.shape[0]
        return SequenceState(self.data_rows(conditions), np.zeros((w, len(self.output_names))), np.zeros(w))

    def new_scores(self, n: int) -> Scores:
        return Scores(np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_), np.zeros((n, N_ACC)))

    def observe(self, state: SequenceState, step: int, inputs: FloatArray) -> None:
        _observe(self.data.inputs, state.row, self.data.lengths, state.last, step, self.feedback_from,
                 self.feedback_input, self.feedback_output, inputs)

    @property
    def feeds_back_outputs(self) -> bool:
        """Whether some inputs are the network's own previous outputs (free running): then the
        input sequence is not known before the trial, and an offline controller cannot run."""
        return self.feedback_from != NO_FEEDBACK

    def whole_sequences(self, state: SequenceState) -> tuple[FloatArray, IntArray]:
        """Every trial's whole input sequence (W, T, n_in), as :meth:`observe` presents it tick by
        tick when no output is fed back (zeros after its end), and its length (W,): what an offline
        controller reads at the start of a trial (controller contract item 12)."""
        return self.data.inputs[state.row], self.data.lengths[state.row]

    def advance(self, state: SequenceState, outputs: FloatArray, step: int, scores: Scores) -> None:
        _advance(self.data.targets, self.data.weights, self.data.lengths, state.row, outputs, step,
                 self.tolerance, state.last, state.target, scores.done, scores.failed, scores.values)

    def trace(self, frame: SequenceState) -> dict[str, FloatArray]:
        return {"output": frame.last[:, 0].copy(), "target": frame.target.copy()}

    # --- helpers of fitness and held-out scores --------------------------------------------------

    @staticmethod
    def mean_of(scores: Scores, column: str) -> FloatArray:
        """Per-trial mean (W,) of an accumulator over the scored elements."""
        v = scores.values
        return v[:, SEQ[column]] / np.maximum(v[:, SEQ["n"]], 1e-300)

    @staticmethod
    def pooled(scores: Scores, column: str) -> float:
        """Mean of an accumulator over every scored element of every trial."""
        v = scores.values
        return float(v[:, SEQ[column]].sum() / max(v[:, SEQ["n"]].sum(), 1e-300))

    def scored_elements(self, conditions: FloatArray) -> FloatArray:
        """Total score weight (W,) of each trial's row over all its outputs (what ``n`` reaches)."""
        return self.data.weights[self.data_rows(conditions)].sum(axis=1) * len(self.output_names)

    def held_out_mean(self, scores: Scores, conditions: FloatArray, column: str, failed_value: float) -> float:
        """Mean of an accumulator over every scored element of the trials; a failed trial counts
        ``failed_value`` for each of its elements."""
        expected = self.scored_elements(conditions)
        total = np.where(scores.failed, failed_value * expected, scores.values[:, SEQ[column]]).sum()
        return float(total / expected.sum())

    def target_variance(self, conditions: FloatArray) -> float:
        """Variance of the scored targets (output 0) of the given trials' rows, pooled."""
        rows = self.data_rows(conditions)
        y = self.data.targets[rows, :, 0]
        w = self.data.weights[rows]
        mean = float((w * y).sum() / w.sum())
        return float((w * (y - mean) ** 2).sum() / w.sum())


class PredictionTask(SequenceTask):
    """A time-series prediction scored by the normalized root-mean-square error

    ``NRMSE = sqrt(mean((o - y)^2) / var(y))`` over the scored ticks,

    ``var(y)`` the variance of the scored targets of the trial's whole split (a constant predictor
    at the split's mean has NRMSE 1). Per-trial fitness ``1 / (1 + NRMSE)``, in (0, 1]; the
    held-out score is the NRMSE of the whole test split, pooled (infinite if a trial failed).
    """

    held_out_metric = "nrmse"

    def set_data(self, train: SequenceData, test: SequenceData) -> None:
        super().set_data(train, test)
        self.split_variance = np.array([self.target_variance(self.rows(0, np.arange(self.n_train))),
                                        self.target_variance(self.rows(1, np.arange(self.n_test)))])

    def nrmse(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        """Per-trial NRMSE (W,) against the variance of the trial's split."""
        var = self.split_variance[conditions[:, 0].astype(np.int64)]
        return np.sqrt(self.mean_of(scores, "sse") / var)

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        return np.where(scores.failed, self.worst, 1.0 / (1.0 + self.nrmse(scores, conditions)))

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        return {"nrmse": self.nrmse(scores, conditions)}

    def held_out_score(self, scores: Scores, conditions: FloatArray) -> float:
        if scores.failed.any():
            return float("inf")
        return float(np.sqrt(self.pooled(scores, "sse") / self.target_variance(conditions)))
