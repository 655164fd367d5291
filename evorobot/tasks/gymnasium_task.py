"""Any installed Gymnasium environment as an evorobot task: evorobot's networks and optimizers,
Gymnasium's dynamics and reward.

Description
    ``[task] type = "gymnasium"`` with ``id = "CartPole-v1"`` (any id in ``gymnasium.registry``)
    evaluates an individual by running its network as the policy of ``trials`` episodes of that
    environment, each in an environment of its own made with ``gymnasium.make(id)`` (no render
    mode). The run directory, replay and determinism rules are every task's: a trial is fixed by
    the reset seed in its conditions row, so a champion replays to its stored return bit for bit.
    Speed: Gymnasium environments are Python objects, so :meth:`Gymnasium.advance` steps them in a
    Python loop, one ``env.step`` per live trial per tick (not one numba call for the whole batch
    as the contract asks of the built-in tasks); expect the environment's own step rate, not
    evorobot's (``worlds/gymnasium_cartpole.toml`` records a measured figure). The built-in
    ``cartpole`` task is the same plant as one numba kernel.
Inputs
    The observation flattened with ``gymnasium.spaces.flatten`` (a Box as is, row-major; a
    Discrete one-hot; a Dict or Tuple concatenated), cast to float64 and multiplied by
    ``obs_scale``: inputs ``obs0``, ``obs1``, ...
Outputs
    ``action0``, ... : a ``Discrete(n)`` action space takes ``n`` outputs and the action is the
    argmax (the first of equal maxima) plus the space's ``start``; a bounded ``Box`` takes one
    output per component, clipped to [0, 1] and mapped linearly onto ``[low, high]`` (in float64,
    then cast to the space's dtype). Other action spaces, and a Box with an infinite bound, are
    refused when the world file is loaded.
Fitness
    The episode's return, the undiscounted sum of its rewards (summed in float64 in step order).
    Mean over trials. A trial whose network output, observation or reward is not finite has
    failed and scores ``-inf`` (the worst: returns have no lower bound in general; optimizers rank
    it below every finite value and count it as failed).
Trials
    One conditions row per trial holding a reset seed, an integer in [0, 2**31) drawn from the
    generation's rng: every trial starts with ``env.reset(seed=int(row[0]))``. Evolution draws
    fresh seeds every generation; ``evorobot replay --trials N --seed S`` draws N fresh ones.
Termination
    Gymnasium's ``terminated`` or ``truncated``; ``max_steps`` (default: the environment's
    ``max_episode_steps``) is the time limit the environment is made with, so the environment
    itself truncates there. An environment is closed as soon as its trial ends; one abandoned
    before its end (an episode stopped mid-way) is left to the garbage collector, which holds no
    resource for an environment without a render mode.
References
    Towers, M. et al. (2024) Gymnasium: a standard interface for reinforcement learning
    environments. arXiv:2407.17032. Adapted: evorobot's episode calls the environment, rather
    than an agent loop calling ``env.step``; no vector environment (trials are independent
    environments so an individual's return does not depend on its batch).
Version
    1
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from evorobot._types import FloatArray
from evorobot.agent import AgentSpec
from evorobot.errors import ConfigError, DependencyNotInstalled
from evorobot.spec import setting
from evorobot.tasks.base import DynamicsTask, Scores, TaskIO

__all__ = ["Gymnasium", "GymnasiumSpec", "GymnasiumState", "import_gymnasium"]

SEED_LIMIT = 2**31
"""Reset seeds are integers in [0, SEED_LIMIT): exact in a float64 conditions row."""


def import_gymnasium(where: str) -> Any:
    """The ``gymnasium`` module, imported on first use (never when evorobot is imported)."""
    try:
        import gymnasium
    except ImportError:
        raise DependencyNotInstalled(
            f"{where}: task type \"gymnasium\" needs the gym extra: pip install 'evorobot[gym]'") from None
    return gymnasium


@dataclass(frozen=True)
class GymnasiumSpec:
    """``[task]`` settings of a Gymnasium environment run as a task."""

    id: str = setting(doc="Gymnasium environment id, such as \"CartPole-v1\" (see gymnasium.pprint_registry())")
    trials: int = setting(5, ge=1, doc="episodes (resets with fresh seeds) per individual and generation")
    max_steps: int = setting(0, ge=0, doc="time limit of an episode in steps (0: the environment's "
                                          "max_episode_steps; required when it has none)")
    obs_scale: float = setting(1.0, gt=0, doc="factor applied to every observation component before the network")


class GymnasiumState(NamedTuple):
    """Every trial's environment and last observation (W trials)."""

    envs: list[Any]  # (W,) one Gymnasium environment per trial; None once its trial has ended
    obs: FloatArray  # (W, n_inputs) the last observation, flattened, unscaled
    reward: FloatArray  # (W,) the last step's reward (0 before the first)


class Gymnasium(DynamicsTask):
    """A Gymnasium environment as an evorobot task (see the module docstring)."""

    name = "gymnasium"
    Spec = GymnasiumSpec
    condition_names = ("seed",)
    worst = -math.inf

    def __init__(self, spec: GymnasiumSpec, agent: AgentSpec | None, dt: float, where: str) -> None:
        super().__init__(spec, agent, dt, where)
        gym = import_gymnasium(where)
        self._gym = gym
        value = f"`id` = \"{spec.id}\""
        if spec.id not in gym.registry:
            close = difflib.get_close_matches(spec.id, list(gym.registry), n=3, cutoff=0.6)
            hint = f"; close matches: {', '.join(f'`{c}`' for c in close)}" if close else \
                "; gymnasium.pprint_registry() lists them"
            raise ConfigError(f"{where}: {value} is not a registered Gymnasium environment{hint}")
        limit = spec.max_steps or gym.registry[spec.id].max_episode_steps
        if not limit:
            raise ConfigError(f"{where}: {value} sets no max_episode_steps; give `max_steps`")
        self._limit = int(limit)
        env = self._make(where)
        try:
            self.obs_space, self.action_space = env.observation_space, env.action_space
        finally:
            env.close()
        self._check_spaces(where, value)
        self._box_obs = type(self.obs_space) is gym.spaces.Box
        n_in = int(gym.spaces.flatdim(self.obs_space))
        discrete = isinstance(self.action_space, gym.spaces.Discrete)
        n_out = int(self.action_space.n) if discrete else int(np.prod(self.action_space.shape))
        self._discrete = discrete
        self._io = TaskIO(tuple(f"obs{i}" for i in range(n_in)), tuple(f"action{i}" for i in range(n_out)))
        if not discrete:
            self._low = np.asarray(self.action_space.low, dtype=np.float64).reshape(-1)
            self._span = np.asarray(self.action_space.high, dtype=np.float64).reshape(-1) - self._low

    def _make(self, where: str = "") -> Any:
        """A new environment of ``id`` with the task's time limit, no render mode."""
        gym = self._gym
        try:
            return gym.make(self.spec.id, max_episode_steps=self._limit)
        except (gym.error.Error, ImportError) as exc:  # an environment whose own extra is missing
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DependencyNotInstalled(f"{where}: `id` = \"{self.spec.id}\" cannot be made: {first}") from None

    def _check_spaces(self, where: str, value: str) -> None:
        spaces = self._gym.spaces
        obs, act = self.obs_space, self.action_space
        if not obs.is_np_flattenable:
            raise ConfigError(f"{where}: {value} has observation space {obs}, which does not flatten to a vector")
        if isinstance(act, spaces.Discrete):
            return
        if not isinstance(act, spaces.Box):
            raise ConfigError(f"{where}: {value} has action space {act}; task gymnasium drives Discrete or "
                              f"bounded Box actions only")
        if not (np.all(np.isfinite(act.low)) and np.all(np.isfinite(act.high))):
            raise ConfigError(f"{where}: {value} has an unbounded Box action space {act}; outputs in [0, 1] "
                              f"need finite low and high")

    @property
    def interface(self) -> TaskIO:
        return self._io

    @property
    def n_trials(self) -> int:
        return self.spec.trials

    @property
    def max_steps(self) -> int:
        return self._limit

    def conditions(self, rng: np.random.Generator) -> FloatArray:
        return rng.integers(0, SEED_LIMIT, size=(self.spec.trials, 1)).astype(np.float64)

    def new_state(self, conditions: FloatArray) -> GymnasiumState:
        envs, obs = [], np.zeros((conditions.shape[0], self._io.n_inputs))
        for w, row in enumerate(conditions):
            env = self._make()
            first, _ = env.reset(seed=int(row[0]))
            obs[w] = self._flat(first)
            envs.append(env)
        return GymnasiumState(envs, obs, np.zeros(conditions.shape[0]))

    def _flat(self, observation: Any) -> FloatArray:
        if self._box_obs:  # what spaces.flatten does to a Box, without its dispatch
            return np.asarray(observation, dtype=np.float64).reshape(-1)
        return np.asarray(self._gym.spaces.flatten(self.obs_space, observation), dtype=np.float64)

    def new_scores(self, n: int) -> Scores:
        # values: the return so far, and the steps taken
        return Scores(np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_), np.zeros((n, 2)))

    def observe(self, state: GymnasiumState, step: int, inputs: FloatArray) -> None:
        np.multiply(state.obs, self.spec.obs_scale, out=inputs)

    def actions(self, outputs: FloatArray) -> list[Any]:
        """The Gymnasium action of every row of ``outputs`` (W, n_outputs) (see Outputs above)."""
        if self._discrete:
            start = int(self.action_space.start)
            return [start + int(k) for k in np.argmax(outputs, axis=1)]
        box = self.action_space
        values = self._low + np.clip(outputs, 0.0, 1.0) * self._span
        return [v.reshape(box.shape).astype(box.dtype) for v in values]

    def advance(self, state: GymnasiumState, outputs: FloatArray, step: int, scores: Scores) -> None:
        """Step every live trial's environment once (a Python loop over the trials)."""
        finite = np.all(np.isfinite(outputs), axis=1)
        live = np.flatnonzero(~(scores.done | scores.failed))
        actions = self.actions(np.where(finite[:, None], outputs, 0.0))
        stepped = []
        for w in live:
            if not finite[w]:
                scores.failed[w] = True
                self._close(state, w)
                continue
            observation, reward, terminated, truncated, _ = state.envs[w].step(actions[w])
            state.obs[w] = self._flat(observation)
            state.reward[w] = reward
            stepped.append(w)
            if terminated or truncated:
                scores.done[w] = True
                self._close(state, w)
        rows = np.array(stepped, dtype=np.int64)
        scores.values[rows, 0] += state.reward[rows]
        scores.values[rows, 1] += 1.0
        # a non-finite observation or reward fails the trial (it would poison the network's state)
        bad = rows[~(np.all(np.isfinite(state.obs[rows]), axis=1) & np.isfinite(state.reward[rows]))]
        scores.failed[bad] = True
        scores.done[bad] = False
        for w in bad:
            if state.envs[w] is not None:
                self._close(state, w)

    @staticmethod
    def _close(state: GymnasiumState, w: int) -> None:
        state.envs[w].close()
        state.envs[w] = None

    def fitness(self, scores: Scores, conditions: FloatArray) -> FloatArray:
        return np.where(scores.failed, self.worst, scores.values[:, 0])

    def diagnostics(self, scores: Scores, conditions: FloatArray) -> dict[str, FloatArray]:
        return {"steps": scores.values[:, 1].copy()}

    def trace(self, frame: GymnasiumState) -> dict[str, FloatArray]:
        return {"reward": frame.reward}
