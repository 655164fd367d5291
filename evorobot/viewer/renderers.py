"""Which renderer draws which task: a dispatch on the task's class, inside the viewer.

The tasks know nothing of drawing. A body task gets :class:`~evorobot.viewer.bodies.BodyRenderer`
(showing its fitness so far on the status line where the task's fitness accumulates,
:attr:`~evorobot.tasks.base.Task.fitness_accumulates`);
a dynamics task with a cart (:class:`~evorobot.tasks.cartpole.CartPole`,
:class:`~evorobot.tasks.double_pole.DoublePole`) gets
:class:`~evorobot.viewer.dynamics.CartRenderer` with the layout of its state written here (the one
place that knows it); every other dynamics task (a sequence data set) gets
:class:`~evorobot.viewer.dynamics.TraceRenderer`. A new cart task adds its layout to
:func:`cart_layout`.
"""

from __future__ import annotations

from evorobot.episode import Episode
from evorobot.tasks.base import Task
from evorobot.tasks.cartpole import CartPole
from evorobot.tasks.double_pole import DoublePole
from evorobot.viewer.bodies import BodyRenderer
from evorobot.viewer.dynamics import CartLayout, CartRenderer, TraceRenderer
from evorobot.viewer.render import Renderer


def cart_layout(task: Task) -> CartLayout | None:
    """Where ``task`` keeps its cart and poles; None for a task without a cart."""
    if isinstance(task, CartPole):  # s = x, x_dot, theta, theta_dot
        return CartLayout((2,), (task.spec.half_length,), task.spec.x_limit)
    if isinstance(task, DoublePole):  # s = x, x_dot, theta1, theta1_dot, theta2, theta2_dot
        return CartLayout((2, 4), tuple(task.spec.half_length), task.spec.x_limit)
    return None


def renderer_for(episode: Episode, trial: int = 0, info: dict[str, str] | None = None) -> Renderer:
    """The renderer that draws trial ``trial`` of ``episode``'s task."""
    task = episode.plant_task
    if task is None:
        return BodyRenderer(episode, trial, info, running_fitness=episode.task.fitness_accumulates)
    layout = cart_layout(task)
    if layout is not None:
        return CartRenderer(episode, layout, trial, info)
    return TraceRenderer(episode, trial, info)
