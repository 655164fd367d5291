"""Single pole balancing with Gymnasium CartPole-v1's constants and Euler step.

Description
    A pole hinged on a cart that moves along a track; pushing the cart left or right keeps the pole
    up. The plant is Gymnasium's ``CartPole-v1`` (Barto, Sutton & Anderson 1983, with Florian's
    2007 correction of the equations), step for step: the same constants (gravity 9.8, cart
    1.0 kg, pole 0.1 kg, half-length 0.5 m, force 10 N) and the same explicit Euler update, so a
    trajectory can be checked against Gymnasium's own implementation (``tests/test_pole.py``).
Inputs
    The plant's state ``(x, x_dot, theta, theta_dot)``, unscaled (Gymnasium's observation; it
    rounds it to float32, evorobot keeps float64).
Outputs
    One motor output ``o``: push right (Gymnasium's action 1) when ``o > 0.5``, else left.
Fitness
    The number of steps until the episode ends (Gymnasium's undiscounted return: reward 1 per step,
    the terminating one included), at most ``steps`` (500 in v1). Mean over trials; a trial whose
    network output is not finite has failed and scores 0.
Trials
    ``trials`` start states drawn uniformly from ``[-0.05, 0.05]^4`` (Gymnasium's reset), fresh
    every generation (the run seed and the generation fix them).
Termination
    ``|x| > 2.4`` or ``|theta| > 12 deg`` (terminated), or ``steps`` steps (truncated).
References
    Barto, A.G., Sutton, R.S. & Anderson, C.W. (1983) Neuronlike adaptive elements that can solve
    difficult learning control problems. IEEE SMC 13(5). Florian, R.V. (2007) Correct equations
    for the dynamics of the cart-pole system. Farama Foundation, Gymnasium ``CartPole-v1``.
    Adapted: the time step ``tau`` is the world's ``[simulation] dt`` (0.02 s in Gymnasium; any
    other value is still Euler, but no longer v1).
Version
    1
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit

from evorobot._types import BoolArray, FloatArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError
from evorobot.spec import setting
from evorobot.tasks.base import DynamicsTask, Scores, TaskIO

__all__ = ["CartPole", "CartPoleSpec", "cartpole_step"]


@dataclass(frozen=True)
class CartPoleSpec:
    """``[task]`` settings of the single pole (defaults: Gymnasium CartPole-v1)."""

    trials: int = setting(10, ge=1, doc="random start states per individual and generation")
    steps: int = setting(500, ge=1, doc="steps after which an episode is truncated (v1: 500)")
    start_range: float = setting(0.05, ge=0, doc="start state uniform in [-start_range, start_range]^4")
    gravity: float = setting(9.8, gt=0, doc="m/s^2")
    cart_mass: float = setting(1.0, gt=0, doc="kg")
    pole_mass: float = setting(0.1, gt=0, doc="kg")
    half_length: float = setting(0.5, gt=0, doc="half the pole's length (m)")
    force: float = setting(10.0, gt=0, doc="magnitude of the push (N)")
    x_limit: float = setting(2.4, gt=0, doc="failure when |x| exceeds it (m)")
    angle_limit_deg: float = setting(12.0, gt=0, le=90, doc="failure when |theta| exceeds it (degrees)")


class CartPoleState(NamedTuple):
    """Every trial's plant state and step limit."""

    s: FloatArray  # (W, 4) x, x_dot, theta, theta_dot
    limit: FloatArray  # (W,) steps after which the trial is truncated


@njit(cache=True)
def cartpole_step(s: FloatArray, push_right: bool, p: FloatArray) -> None:
    """One Euler step of one cart-pole state ``s`` (4,) in place, in Gymnasium's operation order.

    ``p`` = (gravity, cart mass, pole mass, half-length, force, tau).
    """
    gravity, masscart, masspole, length, force_mag, tau = p[0], p[1], p[2], p[3], p[4], p[5]
    total_mass = masspole + masscart
    polemass_length = masspole * length
    x, x_dot, theta, theta_dot = s[0], s[1], s[2], s[3]
    force = force_mag if push_right else -force_mag
    costheta = math.cos(theta)
    sintheta = math.sin(theta)
    temp = (force + polemass_length * (theta_dot * theta_dot) * sintheta) / total_mass
    thetaacc = (gravity * sintheta - costheta * temp) / (
        length * (4.0 / 3.0 - masspole * (costheta * costheta) / total_mass))
    xacc = temp - polemass_length * thetaacc * costheta / total_mass
    s[0] = x + tau * x_dot
    s[1] = x_dot + tau * xacc
    s[2] = theta + tau * theta_dot
    s[3] = theta_dot + tau * thetaacc


@njit(cache=True)
def _observe(s: FloatArray, inputs: FloatArray) -> None:
    for w in range(s.shape[0]):
        for k in range(4):
            inputs[w, k] = s[w, k]


@njit(cache=True)
def _advance(s: FloatArray, limit: FloatArray, outputs: FloatArray, p: FloatArray, x_limit: float,
             angle_limit: float, done: BoolArray, failed: BoolArray, values: FloatArray) -> None:
    """Step every live trial once; ``values[:, 0]`` counts its steps (Gymnasium's return)."""
    for w in range(s.shape[0]):
        if done[w] or failed[w]:
            continue
        o = outputs[w, 0]
        if not np.isfinite(o):
            failed[w] = True
            continue
        cartpole_step(s[w], o > 0.5, p)
        values[w, 0] += 1.0
        x, theta = s[w, 0], s[w, 2]
        if x < -x_limit or x > x_limit or theta < -angle_limit or theta > angle_limit or values[w, 0] >= limit[w]:
            done[w] = True


class CartPole(DynamicsTask):
    """Gymnasium CartPole-v1 as an evorobot task (see the module docstring)."""

    name = "cartpole"
    Spec = CartPoleSpec
    condition_names = ("x", "x_dot", "theta", "theta_dot")

    def __init__(self, spec: CartPoleSpec, agent: AgentSpec | None, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        if spec.start_range >= spec.x_limit:
            raise ConfigError(f"{where}: `start_range` = {spec.start_range:g} starts the cart beyond `x_limit`")
        self.params = np.array([spec.gravity, spec.cart_mass, spec.pole_mass, spec.half_length, spec.force, dt])
        self.angle_limit = spec.angle_limit_deg * 2 * math.pi / 360  # Gymnasium's expression

    @property
    def interface(self) -> TaskIO:
        return TaskIO(self.condition_names, ("push",))

    @property
    def n_trials(self) -> int:
        return self.spec.trials

    @property
    def max_steps(self) -> int:
        return self.spec.steps

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        r = self.spec.start_range
        return rng.uniform(-r, r, size=(self.spec.trials, 4))

    def new_state(self, conditions: FloatArray) -> CartPoleState:
        s = np.ascontiguousarray(conditions[:, :4], dtype=np.float64).copy()
        return CartPoleState(s, np.full(s.shape[0], float(self.spec.steps)))

    def new_scores(self, n: int) -> Scores:
        return Scores(np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_), np.zeros((n, 1)))

    def observe(self, state: CartPoleState, step: int, inputs: FloatArray) -> None:
        _observe(state.s, inputs)

    def advance(self, state: CartPoleState, outputs: FloatArray, step: int, scores: Scores) -> None:
        _advance(state.s, state.limit, outputs, self.params, self.spec.x_limit, self.angle_limit,
                 scores.done, scores.failed, scores.values)

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        return np.where(scores.failed, self.worst, scores.values[:, 0])

    def trace(self, frame: CartPoleState) -> dict[str, FloatArray]:
        return {name: frame.s[:, k] for k, name in enumerate(("cart_x", "cart_v", "pole_angle", "pole_velocity"))}
