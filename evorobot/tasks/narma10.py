"""NARMA-10: one-step prediction of a tenth-order nonlinear autoregressive moving average system.

Description
    The network is driven by i.i.d. inputs ``u(t) ~ U[0, 0.5]`` and must output the response of
    the NARMA-10 system (Atiya & Parlos 2000), a system with a memory of ten steps::

        y(t+1) = 0.3 y(t) + 0.05 y(t) sum_{i=0..9} y(t-i) + 1.5 u(t-9) u(t) + 0.1

    started at rest (``y = 0``, and every term of negative time 0). Some input draws make the
    system diverge: such a sequence is redrawn from the same generator (deterministically).
Inputs
    One: ``2 u(t)`` in [0, 1] at tick t (t = 0, 1, ...).
Outputs
    One, ``o(t)`` in [0, 1], compared with ``y(t+1)`` (the system's output after the input of tick
    t) rescaled as ``(y - lo) / (hi - lo)``, with ``lo``, ``hi`` the least and greatest scored
    target of the train split (test targets may fall slightly outside [0, 1]). The NRMSE is
    invariant under this affine rescaling of target and prediction together.
Fitness
    Per trial ``1 / (1 + NRMSE)`` over the scored ticks, ``NRMSE = sqrt(mean((o - y)^2) / var(y))``
    with ``var(y)`` the variance of the train split's scored targets (a constant predictor at the
    mean has NRMSE 1, fitness 0.5). Mean over trials; a trial whose output is not finite fails
    and scores 0. Held-out test: the NRMSE over the whole test split (``nrmse``).
Trials
    The ``train_sequences`` train sequences, fixed; each of ``washout + length`` ticks, the first
    ``washout`` not scored (the network's transient and the system's start from rest).
    ``test_sequences`` test sequences of the same length, drawn from an independent stream of
    ``data_seed``.
Termination
    After the last element of the sequence.
References
    Atiya, A.F. & Parlos, A.G. (2000) New results on recurrent network training: unifying the
    algorithms and accelerating convergence. IEEE Trans. Neural Networks 11(3):697-709.
    Jaeger, H. (2003) Adaptive nonlinear system identification with echo state networks. NIPS 15.
    Adapted: the data are split in several independent sequences (each a trial) rather than one
    long series, so that the trials run in parallel; the reference ESN result quoted in
    TASKS.md (EchoTorch, 5000 train / 1000 test steps, NRMSE 0.436 with 100 units) uses one
    long series and a ridge read-out.
Version
    1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evorobot.agent import AgentSpec
from evorobot.spec import setting
from evorobot.tasks.datasets import narma10
from evorobot.tasks.sequence import PredictionTask, SequenceData, split_rngs

__all__ = ["Narma10", "Narma10Spec"]


@dataclass(frozen=True)
class Narma10Spec:
    """``[task]`` settings of NARMA-10."""

    data_seed: int = setting(0, ge=0, doc="seed of the generated train and test sequences")
    train_sequences: int = setting(4, ge=1, doc="train sequences (one trial each)")
    test_sequences: int = setting(2, ge=1, doc="held-out test sequences")
    washout: int = setting(50, ge=10, doc="ticks at the start of a sequence that are not scored")
    length: int = setting(500, ge=1, doc="scored ticks per sequence")


def narma_split(u: np.ndarray, y: np.ndarray, washout: int, lo: float, hi: float) -> SequenceData:
    """Sequences of inputs ``2 u`` and targets ``y(t+1)`` rescaled by ``lo``, ``hi``."""
    n, t = u.shape
    weights = np.zeros((n, t))
    weights[:, washout:] = 1.0
    return SequenceData((2.0 * u)[:, :, None], ((y[:, 1:] - lo) / (hi - lo))[:, :, None], weights,
                        np.full(n, t, dtype=np.int64))


class Narma10(PredictionTask):
    """NARMA-10 one-step prediction (see the module docstring)."""

    name = "narma10"
    Spec = Narma10Spec
    input_names = ("u",)
    output_names = ("y",)

    def __init__(self, spec: Narma10Spec, agent: AgentSpec | None, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        train_rng, test_rng = split_rngs(spec.data_seed)
        steps = spec.washout + spec.length
        u_train, y_train = narma10(spec.train_sequences, steps, train_rng)
        u_test, y_test = narma10(spec.test_sequences, steps, test_rng)
        scored = y_train[:, spec.washout + 1:]
        lo, hi = float(scored.min()), float(scored.max())
        self.scale = (lo, hi)
        """The train split's least and greatest scored target: ``y`` is compared as ``(y - lo) / (hi - lo)``."""
        self.set_data(narma_split(u_train, y_train, spec.washout, lo, hi),
                      narma_split(u_test, y_test, spec.washout, lo, hi))
