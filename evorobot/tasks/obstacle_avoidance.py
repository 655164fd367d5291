"""Obstacle avoidance: move fast and straight while keeping away from walls and obstacles.

Description
    Floreano & Mondada's (1994) first evolutionary experiment on the real Khepera: in an arena
    with walls and obstacles, evolve a network that drives as fast and as straight as possible
    while staying away from everything.
Sensors
    The agent file's ``[ir]`` proximity sensors (required), and any other sensors it has.
Motors
    Differential drive (``[motor] type = "differential"``).
Fitness
    Per tick ``Φ = V (1 - sqrt(ΔV)) (1 - i)`` with ``V = (|v_l| + |v_r|) / 2`` the mean wheel speed,
    ``ΔV = |v_l - v_r| / 2`` the wheel-speed difference (wheel speeds as fractions of the maximum,
    so both lie in [0, 1]) and ``i`` the largest IR reading of the tick, in [0, 1]; the trial's
    fitness is the mean of Φ over its ticks. Diagnostic ``near``: the share of ticks with some IR
    reading above 0.5 (within ~2 cm of something).
Trials
    ``trials`` (4) per evaluation, fresh each generation, each from a uniform random pose clear of
    the obstacles (:mod:`evorobot.tasks.robot`).
Termination
    After ``duration`` seconds (40 s).
References
    Floreano, D. & Mondada, F. (1994). Automatic creation of an autonomous agent: genetic evolution
    of a neural-network driven robot. From Animals to Animats 3 (SAB 94), 421-430.
    Adapted: the paper scores V with wheel speeds in [0, 1] from the motors' [-0.5, 0.5] range and
    runs one long trial on the real robot; here speeds are taken in absolute value (a robot
    reversing at full speed still moves) and evaluations are several shorter trials from random
    starts, as in the simulated replications (Nolfi & Floreano 2000, ch. 4).
Version
    1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.spec import setting
from evorobot.tasks.base import Frame, Scores
from evorobot.tasks.robot import NOISE_SEEDS, ArenaSpec, RobotTask


@dataclass(frozen=True)
class ObstacleAvoidanceSpec(ArenaSpec):
    """Settings of the obstacle-avoidance task."""

    trials: int = setting(4, ge=1, doc="trials per evaluation, each from a fresh random start")
    near_threshold: float = setting(0.5, ge=0, le=1, doc="IR reading that counts as near (diagnostic)")


@njit(cache=True)
def _phi(inputs: FloatArray, wheels: FloatArray, n_ir: int, near: float, step: int, last: int,
         done: np.ndarray, failed: np.ndarray, values: FloatArray) -> None:
    """values[b] = (sum of Φ, ticks near something)."""
    for b in range(inputs.shape[0]):
        if done[b] or failed[b]:
            continue
        i = 0.0
        for k in range(n_ir):
            i = max(i, inputs[b, k])
        left, right = wheels[b, 0], wheels[b, 1]
        v = 0.5 * (abs(left) + abs(right))
        dv = 0.5 * abs(left - right)
        phi = v * (1.0 - math.sqrt(dv)) * (1.0 - i)
        if not math.isfinite(phi):
            failed[b] = True
            continue
        values[b, 0] += phi
        if i > near:
            values[b, 1] += 1.0
        if step + 1 >= last:
            done[b] = True


class ObstacleAvoidance(RobotTask):
    """Floreano & Mondada's obstacle avoidance (see the module docstring)."""

    name = "obstacle_avoidance"
    Spec = ObstacleAvoidanceSpec
    version = 1
    condition_names = ("x", "y", "heading", "noise_seed")

    def __init__(self, spec: Any, agent: AgentSpec, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if agent.ir is None:
            raise ConfigError(f"{where}: obstacle avoidance needs IR sensors (an [ir] table in the agent)")
        self.n_ir = len(agent.ir.angles_deg)  # IR readings come first among the inputs

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        rows = [(*self.start_pose(rng), float(rng.integers(NOISE_SEEDS))) for _ in range(self.spec.trials)]
        return np.array(rows, dtype=np.float64)

    def new_scores(self, n: int) -> Scores:
        return Scores(np.zeros(n, np.bool_), np.zeros(n, np.bool_), np.zeros((n, 2)))

    def score(self, frame: Frame, step: int, scores: Scores) -> None:
        _phi(frame.inputs, frame.wheels, self.n_ir, self.spec.near_threshold, step, self.max_steps,
             scores.done, scores.failed, scores.values)

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        fit = scores.values[:, 0] / self.max_steps
        return np.where(scores.failed | ~scores.done, self.worst, fit)

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        return {"near": scores.values[:, 1] / self.max_steps}
