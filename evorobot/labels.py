"""Names of an episode's inputs, neurons and motors, one naming for every place that shows them.

The viewer's panels, the columns of ``evorobot replay --trace`` and the tables and figures of
``evorobot analyze`` label the same quantities the same way:

- inputs: ``ray0..`` (Beer's eye), ``ir0..``, ``light0..``, ``bumper0..``, ``pixel0..`` (a camera's
  raw pixels) or ``field0..`` (its evolved receptive fields), numbered within each sensor; a
  dynamics task's inputs carry the task's own names (``x``, ``theta1``, ``u`` ...);
- neurons: a continuous-time network's neuron labels (``s0..`` sensory, ``h0..`` interneurons,
  ``m0..`` motor neurons; an MTRNN's ``f0..``/``s0..``) name its outputs ``o``; any other traced
  quantity ``q`` of neuron ``h0`` is ``q_h0`` (a CTRNN's state ``y_h0``). Controllers without
  neuron labels name unit ``i`` of quantity ``q`` ``q{i}`` (an LSTM's ``c0``, ``h0``);
- motors: ``motor0..`` for a body (the wheels' or the horizontal motor's commands); a dynamics
  task's outputs carry its names.
"""

from __future__ import annotations

from typing import Any

INPUT_PREFIX = {"eye": "ray", "ir": "ir", "light": "light", "bumper": "bumper", "camera": "pixel"}


def input_labels(episode: Any) -> list[str]:
    """One label per input of ``episode``'s agents (or of its dynamics task), in input order."""
    if episode.plant_task is not None:
        return list(episode.plant_task.interface.inputs)
    agent = episode.agent
    counts: dict[str, int] = {}
    labels = []
    for kind, _ in agent.input_layout():
        prefix = "field" if kind == "camera" and agent.camera.fields else INPUT_PREFIX.get(kind, kind)
        k = counts.get(prefix, 0)
        counts[prefix] = k + 1
        labels.append(f"{prefix}{k}")
    return labels


def output_labels(episode: Any) -> list[str]:
    """One label per motor command (the controller's outputs)."""
    if episode.plant_task is not None:
        return list(episode.plant_task.interface.outputs)
    return [f"motor{i}" for i in range(episode.n_outputs)]


def neuron_labels(controller: Any) -> list[str] | None:
    """A continuous-time network's neuron labels (``h0``, ``m0`` ...), None for other controllers."""
    labels = getattr(controller, "neurons", None)
    return list(labels) if labels else None


def unit_labels(controller: Any, key: str, n: int) -> list[str]:
    """Labels of the ``n`` units of the traced quantity ``key`` (see the module docstring)."""
    labels = neuron_labels(controller)
    if labels is None or len(labels) != n:
        return [f"{key}{i}" for i in range(n)]
    return labels if key == "o" else [f"{key}_{label}" for label in labels]
