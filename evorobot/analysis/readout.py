"""Linear read-out of a trial's category from groups of neurons, tick by tick (Yamashita & Tani 2008).

Yamashita, Y. & Tani, J. (2008). Emergence of functional hierarchy in a multiple timescale neural
network model: a humanoid robot experiment. PLoS Computational Biology 4(11): e1000220. Their
claim: in an MTRNN the slow context units come to encode the *kind* of behaviour (which primitive
sequence), the fast units its moment-to-moment detail. Measured here as how early and how stably
a linear classifier of the trial's category (categorical perception: circle or diamond) can be
read from the slow units' outputs, against the fast units', at every tick of the trial.

The classifier (:func:`cv_accuracy`): at each tick ``t`` separately, ridge-regularised least
squares of the targets -1 / +1 on the group's outputs (features centred on the training trials,
the intercept the training targets' mean, penalty ``ridge`` on the weights only), the predicted
class the sign of the score (a score of exactly 0, i.e. trials the classifier cannot tell apart,
counts half right). Accuracy is cross-validated over *trials*: stratified k-fold (:func:`folds`),
so a trial is scored by a classifier that never saw it. The ridge penalty is a noise floor:
outputs live in [0, 1], and differences far below ``sqrt(ridge)`` hardly move the score, so a
difference of 1e-12 that only exact arithmetic could use does not count as a separation.

Groups of unequal size are not comparable as they are (more units separate more easily):
:func:`subset_accuracy` reads out every (or ``max_subsets`` random) subsets of a group of a given
size. :func:`category_states` replays a champion in the episode that evolution, replay and
``evorobot analyze`` use (:func:`~evorobot.analysis.studies.record`) and returns its neurons'
outputs with each trial's category.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from evorobot._types import FloatArray, IntArray
from evorobot.analysis.studies import copies_episode, record
from evorobot.errors import EvorobotError
from evorobot.source import Source

RIDGE = 1e-4
"""Default ridge penalty on the read-out weights (unit outputs in [0, 1])."""


def folds(category: IntArray, k: int) -> IntArray:
    """Fold index (0..k-1) of each trial: stratified by category, trials of each category dealt
    out in their order (with trials sorted by offset, every fold spans the offset range)."""
    category = np.asarray(category)
    out = np.zeros(category.size, dtype=np.int64)
    for c in np.unique(category):
        idx = np.flatnonzero(category == c)
        if idx.size < k:
            raise EvorobotError(f"--folds {k}: category {c} has only {idx.size} trials")
        out[idx] = np.arange(idx.size) % k
    return out


def cv_accuracy(states: FloatArray, category: IntArray, k: int = 5, ridge: float = RIDGE) -> FloatArray:
    """Cross-validated accuracy (T,) of a linear read-out of a two-valued ``category`` (trials,)
    from ``states`` (T, trials, units), one classifier per tick and fold (module docstring)."""
    states = np.asarray(states, dtype=np.float64)
    category = np.asarray(category)
    values = np.unique(category)
    if values.size != 2:
        raise EvorobotError(f"the read-out needs two categories, got {values.size}")
    if not ridge > 0.0:
        raise EvorobotError(f"--ridge {ridge}: must be > 0")
    y = np.where(category == values[1], 1.0, -1.0)
    fold = folds(category, k)
    n_ticks, _, d = states.shape
    right = np.zeros(n_ticks)
    for f in range(k):
        train, test = fold != f, fold == f
        x = states[:, train]
        mean = x.mean(axis=1, keepdims=True)
        xc = x - mean
        y_mean = y[train].mean()
        gram = np.einsum("tni,tnj->tij", xc, xc) + ridge * np.eye(d)
        w = np.linalg.solve(gram, np.einsum("tni,n->ti", xc, y[train] - y_mean)[..., None])[..., 0]
        score = y_mean + np.einsum("tni,ti->tn", states[:, test] - mean, w)
        right += (np.sign(score) == y[test]).sum(axis=1) + 0.5 * (score == 0.0).sum(axis=1)
    return right / category.size


def subsets(n: int, size: int, max_subsets: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Every ``size``-subset of ``range(n)`` if there are at most ``max_subsets``, else that many
    distinct ones drawn with ``rng``."""
    if not 1 <= size <= n:
        raise EvorobotError(f"subset size {size}: the group has {n} units")
    if math.comb(n, size) <= max_subsets:
        return list(itertools.combinations(range(n), size))
    seen: set[tuple[int, ...]] = set()
    while len(seen) < max_subsets:
        seen.add(tuple(sorted(rng.choice(n, size, replace=False).tolist())))
    return sorted(seen)


def subset_accuracy(states: FloatArray, category: IntArray, size: int, k: int = 5, ridge: float = RIDGE,
                    max_subsets: int = 20, rng: np.random.Generator | None = None) -> FloatArray:
    """:func:`cv_accuracy` of each subset of ``size`` units (:func:`subsets`): (subsets, T)."""
    rng = np.random.default_rng(0) if rng is None else rng
    chosen = subsets(states.shape[2], size, max_subsets, rng)
    return np.array([cv_accuracy(states[:, :, list(s)], category, k, ridge) for s in chosen])


def first_stable_tick(accuracy: FloatArray, threshold: float) -> int | None:
    """The first tick from which ``accuracy`` stays >= ``threshold`` to the end (None: it ends below)."""
    below = np.flatnonzero(np.asarray(accuracy) < threshold)
    if below.size == 0:
        return 0
    last = int(below[-1]) + 1
    return last if last < len(accuracy) else None


def unit_groups(labels: list[str]) -> dict[str, list[int]]:
    """Neuron indices by label prefix (``sl0, sl1`` -> ``sl``; ``f0..`` -> ``f``; ``h0..`` -> ``h``),
    in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(labels):
        groups.setdefault(name.rstrip("0123456789"), []).append(j)
    return groups


@dataclass
class CategoryStates:
    """A replay's neuron outputs ``states`` (T, trials, N) at times ``time`` (T,) (tick 0 the
    initial state, up to the tick at which the first trial ended), the neurons' ``labels``, each
    trial's ``category`` (0 / 1, the condition column ``column``), the trials' ``conditions`` and
    the replay's per-trial ``fitness``."""

    time: FloatArray
    states: FloatArray
    labels: list[str]
    category: IntArray
    column: str
    conditions: FloatArray
    fitness: FloatArray


def category_column(names: tuple[str, ...], conditions: FloatArray, column: str | None = None) -> int:
    """Index of the condition column that holds the category: ``column``, or the first with exactly
    two values (categorical perception's ``avoid``)."""
    if column is not None:
        if column not in names:
            raise EvorobotError(f"--category {column!r}: the task's conditions are {', '.join(names)}")
        c = names.index(column)
    else:
        two = [c for c, n in enumerate(names) if n != "noise_seed" and np.unique(conditions[:, c]).size == 2]
        if not two:
            raise EvorobotError(f"no two-valued condition among {', '.join(names)} to read out")
        c = two[0]
    if np.unique(conditions[:, c]).size != 2:
        raise EvorobotError(f"--category {names[c]!r}: needs exactly two values over the trials")
    return c


def category_states(source: Source, column: str | None = None) -> CategoryStates:
    """Replay ``source`` (:func:`~evorobot.analysis.studies.record`) and return its neuron outputs
    with each trial's category (see :class:`CategoryStates`)."""
    ctrl = source.setup.controller
    if not getattr(ctrl, "neurons", None):
        raise EvorobotError(f"the read-out needs a network with labelled neurons, not `{ctrl.name}`")
    ep = copies_episode(source, 1)
    if ep.n_robots != 1:
        raise EvorobotError(f"the read-out takes one agent per trial, `{source.setup.task.name}` has {ep.n_robots}")
    names = tuple(source.setup.task.condition_names)
    c = category_column(names, source.conditions, column)
    traces = record(ep)
    horizon = int(traces.end.min()) + 1
    cond = source.conditions[:, c]
    return CategoryStates(traces.time[:horizon], traces.units[:horizon], traces.labels,
                          (cond == cond.max()).astype(np.int64), names[c], source.conditions, ep.result().fitness[0])
