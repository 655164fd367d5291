"""Mackey-Glass: prediction of a chaotic delay-differential time series, one step or free running.

Description
    The series is the Mackey-Glass equation with delay ``tau`` = 17 (chaotic)::

        dx/dt = 0.2 x(t - tau) / (1 + x(t - tau)^10) - 0.1 x(t)

    integrated by classical fourth-order Runge-Kutta with ``substeps`` = 10 steps per time unit
    (h = 0.1; the delayed value at a half step is the mean of its two neighbouring grid values),
    from a constant history ``x0 ~ U[0.5, 1.5]`` drawn from ``data_seed``; the first
    ``transient`` = 1000 time units are discarded, and the series is sampled once per time unit
    (:func:`~evorobot.tasks.datasets.mackey_glass`). Its values lie in about [0.4, 1.35].
    The one series is cut into consecutive segments of ``washout + length + 1`` samples: the
    train segments first, then the test segments (later in time, never seen in training).
Inputs
    One: the rescaled sample ``x(t)`` at tick t (see Outputs); in free-run mode, from tick
    ``washout`` on, the network's own output of the previous tick instead.
Outputs
    One, ``o(t)`` in [0, 1], compared with ``x(t+1)``; inputs and targets are rescaled together
    as ``(x - lo) / (hi - lo)``, ``lo``, ``hi`` the least and greatest sample of the train
    segments, so an output is directly the next input (NRMSE is invariant under the rescaling).
Fitness
    ``mode = "one_step"``: one-step prediction, the first ``washout`` ticks not scored.
    ``mode = "free_run"``: teacher forced for ``washout`` ticks (not scored), then running on its
    own predictions for ``length`` ticks (scored). Per trial ``1 / (1 + NRMSE)``,
    ``NRMSE = sqrt(mean((o - x)^2) / var(x))``, ``var`` the variance of the split's scored targets;
    mean over trials; a non-finite output fails the trial (0). Held-out test: the test split's
    NRMSE (``nrmse``).
Trials
    ``train_sequences`` train segments (fixed) and ``test_sequences`` test segments.
Termination
    After ``washout + length`` ticks.
References
    Mackey, M.C. & Glass, L. (1977) Oscillation and chaos in physiological control systems.
    Science 197:287-289. Jaeger, H. & Haas, H. (2004) Harnessing nonlinearity: predicting chaotic
    systems and saving energy in wireless communication. Science 304:78-80 (free-running
    generation after teacher forcing). Adapted: the integration scheme and the initial history
    are this module's choice (papers differ; many integrate with coarser steps); the samples are
    one time unit apart (papers differ in this interval and in the scaling of the series;
    [check] against the one a result is compared with).
Version
    1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.spec import setting
from evorobot.tasks.datasets import mackey_glass
from evorobot.tasks.sequence import PredictionTask, SequenceData, split_rngs

__all__ = ["MackeyGlass", "MackeyGlassSpec"]


@dataclass(frozen=True)
class MackeyGlassSpec:
    """``[task]`` settings of Mackey-Glass prediction."""

    data_seed: int = setting(0, ge=0, doc="seed of the series' initial history")
    mode: str = setting("one_step", choices=("one_step", "free_run"), doc="prediction mode")
    train_sequences: int = setting(4, ge=1, doc="train segments (one trial each)")
    test_sequences: int = setting(2, ge=1, doc="held-out test segments (after the train ones)")
    washout: int = setting(100, ge=1, doc="unscored (teacher-forced) ticks at the start of a segment")
    length: int = setting(200, ge=1, doc="scored ticks per segment")
    tau: float = setting(17.0, gt=0, doc="delay of the equation (17: chaotic)")
    substeps: int = setting(10, ge=1, doc="Runge-Kutta steps per time unit")
    transient: int = setting(1000, ge=0, doc="time units discarded from the start of the integration")


class MackeyGlass(PredictionTask):
    """Mackey-Glass time-series prediction (see the module docstring)."""

    name = "mackey_glass"
    Spec = MackeyGlassSpec
    input_names = ("x",)
    output_names = ("x_next",)

    def __init__(self, spec: MackeyGlassSpec, agent: AgentSpec | None, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if abs(spec.tau * spec.substeps - round(spec.tau * spec.substeps)) > 1e-9:
            raise ConfigError(f"{where}: `tau` * `substeps` must be an integer, got {spec.tau:g} * {spec.substeps}")
        (rng,) = split_rngs(spec.data_seed, 1)
        seg = spec.washout + spec.length
        n_seg = spec.train_sequences + spec.test_sequences
        x = mackey_glass(n_seg * seg + 1, rng, tau=spec.tau, substeps=spec.substeps, transient=spec.transient)
        n_train_samples = spec.train_sequences * seg + 1
        lo, hi = float(x[:n_train_samples].min()), float(x[:n_train_samples].max())
        self.scale = (lo, hi)
        """The train segments' least and greatest sample: ``x`` is seen as ``(x - lo) / (hi - lo)``."""
        x = (x - lo) / (hi - lo)
        starts = np.arange(n_seg) * seg
        windows = x[starts[:, None] + np.arange(seg + 1)[None, :]]  # (n_seg, seg + 1)
        weights = np.zeros((n_seg, seg))
        weights[:, spec.washout:] = 1.0
        data = SequenceData(windows[:, :-1, None], windows[:, 1:, None], weights, np.full(n_seg, seg, dtype=np.int64))
        k = spec.train_sequences
        self.set_data(SequenceData(*(a[:k] for a in data)), SequenceData(*(a[k:] for a in data)))
        if spec.mode == "free_run":
            self.feedback_from = spec.washout
