"""Ridge regression of a linear readout (``[optimizer] type = "ridge"``), the classic ESN training.

Jaeger, H. (2001). The "echo state" approach to analysing and training recurrent neural networks.
GMD Report 148. Lukosevicius, M. (2012). A practical guide to applying echo state networks. In
Neural Networks: Tricks of the Trade, 2nd ed., LNCS 7700: 659-686 (ridge regression, section 4).

For a controller with a :class:`~evorobot.controllers.base.LinearReadout` (contract item 11: an
``esn`` with ``evolve = "readout"`` and no output feedback) on a sequence data-set task
(:class:`~evorobot.tasks.sequence.SequenceTask`):

1. the network is driven from rest by every training sequence (``task.data``, the train rows),
   tick by tick with the controller's own kernel, collecting the features ``phi`` (the ESN's
   ``[x; u; 1]``). The inputs are the data's: for a free-running task (Mackey-Glass
   ``mode = "free_run"``) that is teacher forcing, the true series in place of the fed-back
   outputs (Jaeger & Haas 2004);
2. ticks of score weight ``w = 0`` (the washout, padding) are dropped; the others are the rows of
   ``Phi`` (M, F), each scaled by ``sqrt(w)``, with the targets ``Y`` (M, K) (the task's, already
   scaled into [0, 1]);
3. for every output ``k``, ``W_k = argmin |Phi W_k - Y_k|^2 + alpha |W_k|^2``, in closed form from
   the thin SVD ``Phi = U S V^T``: ``W_k = V diag(s / (s^2 + alpha)) U^T Y_k`` (the bias weight
   is regularised like the others);
4. the readout is stored as genes, decoded into the controller's readout range. If the
   closed-form solution lies inside the range it is encoded as it is; otherwise the
   bound-constrained problem is solved (:func:`scipy.optimize.lsq_linear`, BVLS, on the augmented
   matrix ``[Phi; sqrt(alpha) I]`` and ``[Y_k; 0]``, bounds the range), and the notes report how
   many weights sit on a bound.

One epoch. The training loss is the mean squared error of the fitted (unclipped) readout over
the training ticks; the stored fitness and held-out score come from the normal evaluation of the
encoded genome (:mod:`evorobot.training.run`), so a replay reproduces them bit for bit. The result
depends on the set-up alone (reservoir seed, data seed, alpha), not on the run seed or the workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from scipy.optimize import lsq_linear

from evorobot._types import FloatArray
from evorobot.errors import ConfigError
from evorobot.spec import setting
from evorobot.tasks.sequence import SequenceTask
from evorobot.training.base import Epoch, Trainer

if TYPE_CHECKING:
    from evorobot.setup import Setup

__all__ = ["Ridge", "RidgeSpec", "bounded_ridge", "design", "ridge"]


@dataclass(frozen=True)
class RidgeSpec:
    """``[optimizer]`` settings of the ridge readout trainer."""

    alpha: float = setting(1e-6, ge=0, doc="regularisation: minimise |Phi W - Y|^2 + alpha |W|^2 (sums over ticks)")


def design(phi: FloatArray, targets: FloatArray, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The regression's rows: features ``phi`` (R, T, F) and ``targets`` (R, T, K) of the ticks of
    nonzero ``weights`` (R, T), each row scaled by ``sqrt(w)``; returns ``Phi`` (M, F), ``Y`` (M, K)."""
    keep = weights > 0
    root = np.sqrt(weights[keep])[:, None]
    return phi[keep] * root, targets[keep] * root


def ridge(phi: FloatArray, y: FloatArray, alpha: float) -> FloatArray:
    """Closed-form ridge regression ``W`` (K, F) of ``y`` (M, K) on ``phi`` (M, F) (see step 3)."""
    u, s, vt = np.linalg.svd(phi, full_matrices=False)
    return ((vt.T * (s / (s * s + alpha))) @ (u.T @ y)).T


def bounded_ridge(phi: FloatArray, y: FloatArray, alpha: float, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """Ridge regression ``W`` (K, F) with ``lo <= W <= hi`` (each (K, F)): BVLS on the augmented system."""
    f = phi.shape[1]
    a = np.vstack([phi, np.sqrt(alpha) * np.eye(f)])
    w = np.empty((y.shape[1], f))
    for k in range(y.shape[1]):
        b = np.concatenate([y[:, k], np.zeros(f)])
        w[k] = lsq_linear(a, b, bounds=(lo[k], hi[k]), method="bvls").x
    return np.clip(w, lo, hi)


class Ridge(Trainer):
    """Ridge regression of a linear readout on a sequence task's training data (module docstring)."""

    name: ClassVar[str] = "ridge"
    Spec: ClassVar[type] = RidgeSpec

    def __init__(self, spec: RidgeSpec, setup: Setup, where: str) -> None:
        super().__init__(spec, setup, where)
        if not isinstance(setup.task, SequenceTask):
            raise ConfigError(f"{where}: ridge fits a readout to a sequence data set; task "
                              f"`{setup.experiment.task_type}` has no training sequences (use an evolutionary optimizer)")
        self.readout = setup.controller.linear_readout(where)
        if setup.genome_size != setup.controller.genome_size:
            raise ConfigError(f"{where}: ridge fits the controller's readout; this set-up has other genes too")

    def epochs(self) -> Iterator[Epoch]:
        task = self.setup.task
        assert isinstance(task, SequenceTask)
        rows = slice(0, task.n_train)
        phi = self.readout.features(task.data.inputs[rows])
        x, y = design(phi, task.data.targets[rows], task.data.weights[rows])
        alpha = self.spec.alpha
        w = ridge(x, y, alpha)
        lo, hi = self.readout.lo, self.readout.hi
        inside = bool(np.all((w >= lo) & (w <= hi)))
        if not inside:
            w = bounded_ridge(x, y, alpha, lo, hi)
        on_bound = int(np.count_nonzero((w <= lo) | (w >= hi))) if not inside else 0
        loss = float(np.mean((x @ w.T - y) ** 2))
        notes: dict[str, Any] = {"samples": int(x.shape[0]), "features": int(x.shape[1]), "alpha": alpha,
                                 "bounded": not inside, "weights_on_bound": on_bound, "weights": int(w.size),
                                 "largest_weight": float(np.max(np.abs(w)))}
        yield Epoch(self.readout.encode(w), loss, notes)

    @staticmethod
    def describe(notes: dict[str, Any]) -> str:
        bound = (f"bound-constrained, {notes['weights_on_bound']} of {notes['weights']} weights on a bound"
                 if notes["bounded"] else "closed form inside the readout range")
        return (f"ridge: {notes['samples']} ticks x {notes['features']} features, alpha {notes['alpha']:g}, "
                f"{bound}, largest |w| {notes['largest_weight']:.3g}")
