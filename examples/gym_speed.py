"""Agent-steps per second of evorobot's Gymnasium vector environment against a SyncVectorEnv of
single environments (the same trials, bit for bit), for a few tasks and batch sizes.

    python examples/gym_speed.py [--steps 300]

Measured in one run, one after the other; a fixed action (0.6, 0.5, ...) drives every agent.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def rate(env, n: int, steps: int) -> float:
    env.reset(seed=0)
    action = np.full((n, env.single_action_space.shape[0]), 0.5)
    action[:, 0] = 0.6
    env.step(action)  # warm
    t0 = time.perf_counter()
    for _ in range(steps):
        env.step(action)
    return n * steps / (time.perf_counter() - t0)


def main() -> None:
    import gymnasium

    import evorobot.gym  # noqa: F401  (registers the ids)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    print("| environment | envs | vector env (agent-steps/s) | SyncVectorEnv (agent-steps/s) | ratio |")
    print("|---|---:|---:|---:|---:|")
    for env_id in ("evorobot/CategoricalPerception-v1", "evorobot/Phototaxis-v2", "evorobot/CartPole-v1"):
        for n in (1, 16, 64, 256):
            vec = rate(gymnasium.make_vec(env_id, num_envs=n), n, args.steps)
            sync = rate(gymnasium.vector.SyncVectorEnv([lambda: gymnasium.make(env_id) for _ in range(n)]), n, args.steps)
            print(f"| {env_id} | {n} | {vec:,.0f} | {sync:,.0f} | {vec / sync:.1f}x |")


if __name__ == "__main__":
    main()
