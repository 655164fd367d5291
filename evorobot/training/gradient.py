"""Gradient descent on a sequence task's training data: the epoch loop shared by BPTT and RTRL.

Rumelhart, D.E., Hinton, G.E. & Williams, R.J. (1986). Learning representations by
back-propagating errors. Nature 323: 533-536. Kingma, D.P. & Ba, J. (2015). Adam: a method for
stochastic optimization. ICLR (Algorithm 1). Pascanu, R., Mikolov, T. & Bengio, Y. (2013). On the
difficulty of training recurrent neural networks. ICML (gradient-norm clipping, Algorithm 1).

For a controller with a :class:`~evorobot.controllers.base.GradientModel` (contract item 14) on a
sequence data-set task (:class:`~evorobot.tasks.sequence.SequenceTask`):

- **Parameters are the genes.** The trainer works on ``theta``, the decoded value of every gene
  (one per gene: entries that share a gene share its gradient, summed). The initial genes are
  uniform in ``[-init_scale, init_scale]`` from the run seed (parameters in the middle
  ``init_scale`` fraction of each gene range; 0 puts every parameter at its range's centre).
- **Loss** on the scored ticks of the training rows (``task.data``, the train rows; weight ``w``
  per tick, 0 for washout and padding): the mean over scored (tick, output) elements of
  ``w (o - y)^2`` (``loss = "squared"``, the squared error that the sequence tasks' fitness is
  made of) or of the logistic cross-entropy ``-w [y log o + (1 - y) log(1 - o)]``
  (``"cross_entropy"``, for binary classification: allowed only where every scored target is 0
  or 1, as in ``temporal_xor`` (the next bit), ``tomita`` (accept/reject), ``framewise`` (one-hot
  frames) and ``pattern_completion`` (the pattern's bits); refused for the graded targets of
  ``narma10``, ``mackey_glass`` and ``adding``. The outputs are logistic units, and for them the
  cross-entropy is the negative log-likelihood of Bernoulli targets, whose gradient at the net
  input, ``o - y``, does not vanish where a wrong output saturates). The default is the squared
  error, the quantity every sequence task's fitness is made of.
- **Epoch**: the training rows in an order drawn from the run seed, cut into mini-batches of
  ``batch`` sequences; per mini-batch, the gradient of the mean loss (the network's exact
  gradient: BPTT, truncated BPTT or RTRL), its norm clipped to ``clip`` (Pascanu et al. 2013; 0:
  none), one step of Adam (Kingma & Ba 2015, with bias correction) or of SGD with momentum
  (``v <- momentum v - learning_rate g``, ``theta <- theta + v``).
- **Projection**: a parameter that leaves its gene range is put back on the bound after each
  step (projected gradient); the notes count the clipped parameters (``projected``: steps x
  parameters clipped in the epoch; ``on_bound``: parameters on a bound at its end). The new
  genome is the encoded parameters, and the trainer continues from the genome's *decoded*
  parameters (the encoding may move a value by an ulp), so that what it trains on is what the
  genome replays.
- The epoch's genome is scored by :mod:`evorobot.training.run` through the normal episode, so its
  fitness and held-out score replay bit for bit. The epoch's ``loss`` is the mean training loss
  over the epoch's mini-batches, each taken before its own step.

Everything is a function of the set-up and the run seed (``[experiment] seed``: the initial genes
and every epoch's order), never of the workers. After every epoch :mod:`evorobot.training.run`
writes a checkpoint of the trainer's state (the genome, the optimizer's moments, the rng, the
epochs done: :meth:`Descent.state_dict`), from which :func:`evorobot.training.run.resume_training`
continues bit for bit.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from evorobot._types import FloatArray, IntArray
from evorobot.controllers._dense import CROSS_ENTROPY, LOSSES
from evorobot.errors import ConfigError
from evorobot.evolution.base import rng_state
from evorobot.seeding import optimizer_seed
from evorobot.spec import setting
from evorobot.tasks.sequence import SequenceTask
from evorobot.training.base import Epoch, Trainer

if TYPE_CHECKING:
    from evorobot.controllers.base import Controller, GradientModel
    from evorobot.setup import Setup

__all__ = ["Adam", "Descent", "GeneParameters", "GradientSpec", "GradientTrainer", "Momentum", "clip_norm", "descend"]

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class GradientSpec:
    """``[optimizer]`` settings every gradient trainer shares."""

    epochs: int = setting(100, ge=1, doc="passes over the training sequences")
    batch: int = setting(4, ge=1, doc="sequences per mini-batch (the last one of an epoch may be smaller)")
    optimizer: str = setting("adam", choices=OPTIMIZERS, doc="adam (Kingma & Ba 2015) or sgd with momentum")
    learning_rate: float = setting(0.01, gt=0, doc="step size")
    momentum: float = setting(0.9, ge=0, le=0.999, doc="sgd's momentum (0: plain gradient descent)")
    beta1: float = setting(0.9, ge=0, le=0.999, doc="adam's decay of the first moment")
    beta2: float = setting(0.999, ge=0, le=0.999999, doc="adam's decay of the second moment")
    eps: float = setting(1e-8, gt=0, doc="adam's denominator floor")
    clip: float = setting(1.0, ge=0, doc="largest gradient norm (larger ones are scaled down to it); 0: no clipping")
    loss: str = setting("squared", choices=LOSSES, doc="squared error, or cross_entropy for 0/1 targets")
    init_scale: float = setting(0.1, ge=0, le=1, doc="initial genes uniform in [-init_scale, init_scale]")


def clip_norm(grad: FloatArray, clip: float) -> tuple[FloatArray, float]:
    """``grad`` scaled down to norm ``clip`` if longer (``clip`` 0: unchanged), and its norm before."""
    norm = float(np.sqrt(np.dot(grad, grad)))
    if clip > 0 and norm > clip:
        return grad * (clip / norm), norm
    return grad, norm


class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1): moments ``m``, ``v`` and the step count ``t``."""

    def __init__(self, size: int, spec: GradientSpec) -> None:
        self.lr, self.b1, self.b2, self.eps = spec.learning_rate, spec.beta1, spec.beta2, spec.eps
        self.m, self.v, self.t = np.zeros(size), np.zeros(size), 0

    def step(self, grad: FloatArray) -> FloatArray:
        """The change of the parameters for gradient ``grad``."""
        self.t += 1
        self.m = self.b1 * self.m + (1.0 - self.b1) * grad
        self.v = self.b2 * self.v + (1.0 - self.b2) * grad * grad
        m_hat = self.m / (1.0 - self.b1 ** self.t)
        v_hat = self.v / (1.0 - self.b2 ** self.t)
        return -self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class Momentum:
    """Gradient descent with (heavy-ball) momentum: ``v <- momentum v - lr g``; the change is ``v``."""

    def __init__(self, size: int, spec: GradientSpec) -> None:
        self.lr, self.mu = spec.learning_rate, spec.momentum
        self.v = np.zeros(size)

    def step(self, grad: FloatArray) -> FloatArray:
        """The change of the parameters for gradient ``grad``."""
        self.v = self.mu * self.v - self.lr * grad
        return self.v


class GeneParameters:
    """One decoded value per gene of a controller, and the map between parameter blocks and genes.

    ``theta`` (G,) is gene ``k``'s parameter value (its orbit's first entry); ``lo``, ``hi`` (G,) its
    range. :meth:`gene_gradient` sums a block gradient over the entries that share each gene.
    """

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.layout = controller.layout  # type: ignore[attr-defined]
        size = controller.genome_size
        self.genes = {name: self.layout.entry_genes(name) for name in controller.Params._fields}  # type: ignore[attr-defined]
        self.lo = self.values(controller.decode(-np.ones((1, size))))
        self.hi = self.values(controller.decode(np.ones((1, size))))

    def values(self, params: Any) -> FloatArray:
        """Each gene's parameter value (G,) read from ``params`` (one network)."""
        return self.gene_gradient(params, first=True)

    def gene_gradient(self, grads: Any, first: bool = False) -> FloatArray:
        """The gradient (G,) with respect to the genes' parameter values, from block gradients
        ``grads`` (one network): each gene sums the entries that share it (``first``: takes the
        value of its first entry instead)."""
        out = np.zeros(self.controller.genome_size)
        for name, genes in self.genes.items():
            block = getattr(grads, name)[0]
            has = genes >= 0
            if first:
                gene, entry = np.unique(genes[has], return_index=True)  # each gene's first entry
                out[gene] = block[has][entry]
            else:
                np.add.at(out, genes[has], block[has])
        return out

    def encode(self, theta: FloatArray) -> FloatArray:
        """The genome (G,) of parameter values ``theta`` within their ranges (the layout's encoding)."""
        return np.clip(2.0 * (theta - self.lo) / (self.hi - self.lo) - 1.0, -1.0, 1.0)


class Descent:
    """The epoch loop of the module docstring, for any data, one :meth:`epoch` at a time.

    ``gradient(params, rows)`` gives the summed loss of ``params`` (one network of ``controller``)
    on training ``rows`` and its block gradients; ``scored`` (R,) the scored elements of each row
    (the loss is averaged over them); ``rng`` draws the initial genes, then every epoch's order.
    :meth:`state_dict` / :meth:`load_state_dict` export and restore everything that the next
    epochs depend on (the genome, the optimizer's moments, the rng, the epochs done), so that a
    restored descent continues bit for bit.
    """

    def __init__(self, controller: Controller, gradient: Callable[[Any, IntArray], tuple[float, Any]],
                 scored: FloatArray, spec: GradientSpec, rng: np.random.Generator) -> None:
        self.controller, self.gradient, self.scored, self.spec, self.rng = controller, gradient, scored, spec, rng
        self.gp = GeneParameters(controller)
        self.opt = Adam(controller.genome_size, spec) if spec.optimizer == "adam" else Momentum(controller.genome_size, spec)
        self.done = 0
        self._set_genome(rng.uniform(-spec.init_scale, spec.init_scale, controller.genome_size))

    def _set_genome(self, genome: FloatArray) -> None:
        self.genome = genome
        self.net = self.controller.decode(genome[None, :])
        self.theta = self.gp.values(self.net)  # continue from what the genome replays

    def epoch(self) -> Epoch:
        """One pass over the rows in a fresh order; the genome it ends with."""
        spec, gp = self.spec, self.gp
        order = self.rng.permutation(self.scored.size)
        loss_sum = count = 0.0
        projected, norms = 0, []
        for first in range(0, order.size, spec.batch):
            rows = np.sort(order[first:first + spec.batch])
            n = float(self.scored[rows].sum())
            if n == 0.0:
                continue
            loss, grads = self.gradient(self.net, rows)
            loss_sum, count = loss_sum + loss, count + n
            g, norm = clip_norm(gp.gene_gradient(grads) / n, spec.clip)
            norms.append(norm)
            theta = self.theta + self.opt.step(g)
            projected += int(np.count_nonzero((theta < gp.lo) | (theta > gp.hi)))
            self._set_genome(gp.encode(np.clip(theta, gp.lo, gp.hi)))
        self.done += 1
        on_bound = int(np.count_nonzero((self.theta <= gp.lo) | (self.theta >= gp.hi)))
        notes = {"updates": len(norms), "grad_norm": float(np.mean(norms)) if norms else 0.0,
                 "largest_grad_norm": float(np.max(norms)) if norms else 0.0,
                 "projected": projected, "on_bound": on_bound, "parameters": int(self.theta.size)}
        return Epoch(self.genome.copy(), loss_sum / max(count, 1e-300), notes)

    def state_dict(self) -> dict[str, Any]:
        """JSON-ready values and numpy arrays at the top level (strict JSON + NPZ)."""
        state: dict[str, Any] = {"epochs_done": self.done, "genome": self.genome.copy(), "rng_state": rng_state(self.rng)}
        if isinstance(self.opt, Adam):
            state.update(adam_m=self.opt.m.copy(), adam_v=self.opt.v.copy(), adam_t=self.opt.t)
        else:
            state.update(velocity=self.opt.v.copy())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state`` (from :meth:`state_dict` of a descent of the same set-up)."""
        self.done = int(state["epochs_done"])
        self._set_genome(np.array(state["genome"], dtype=np.float64))
        self.rng.bit_generator.state = state["rng_state"]
        if isinstance(self.opt, Adam):
            self.opt.m, self.opt.v = np.array(state["adam_m"]), np.array(state["adam_v"])
            self.opt.t = int(state["adam_t"])
        else:
            self.opt.v = np.array(state["velocity"])


def descend(controller: Controller, gradient: Callable[[Any, IntArray], tuple[float, Any]], scored: FloatArray,
            spec: GradientSpec, rng: np.random.Generator) -> Iterator[Epoch]:
    """The epochs of a :class:`Descent` of ``spec.epochs`` epochs."""
    descent = Descent(controller, gradient, scored, spec, rng)
    for _ in range(spec.epochs):
        yield descent.epoch()


class GradientTrainer(Trainer):
    """Shared epoch loop of the gradient trainers (module docstring); subclasses set
    :meth:`gradient`: the summed loss and the block gradients of a mini-batch."""

    Spec: Any

    def __init__(self, spec: GradientSpec, setup: Setup, where: str) -> None:
        super().__init__(spec, setup, where)
        task = setup.task
        if not isinstance(task, SequenceTask):
            raise ConfigError(f"{where}: `{self.name}` trains on a sequence data set; task "
                              f"`{setup.experiment.task_type}` has no training sequences (use an evolutionary optimizer)")
        if task.feeds_back_outputs:
            raise ConfigError(f"{where}: `{self.name}` needs the task's inputs in advance; this task feeds the "
                              "network's outputs back as inputs (free running)")
        self.model: GradientModel = setup.controller.gradient_model(where)
        if setup.genome_size != setup.controller.genome_size:
            raise ConfigError(f"{where}: `{self.name}` trains the controller's parameters; this set-up has other genes too")
        rows = slice(0, task.n_train)
        self.inputs, self.targets = task.data.inputs[rows], task.data.targets[rows]
        self.weights, self.lengths = task.data.weights[rows], task.data.lengths[rows]
        self.loss_kind = LOSSES.index(spec.loss)
        if self.loss_kind == CROSS_ENTROPY:
            scored = self.targets[self.weights > 0]
            if not np.all((scored == 0.0) | (scored == 1.0)):
                raise ConfigError(f"{where}: loss = \"cross_entropy\" needs 0/1 targets; task "
                                  f"`{setup.experiment.task_type}` has graded targets (use loss = \"squared\")")
        rng = np.random.default_rng(optimizer_seed(setup.experiment.experiment.seed))
        scored = self.weights.sum(axis=1) * self.targets.shape[2]
        self.descent = Descent(setup.controller, self.gradient, scored, spec, rng)

    @abstractmethod
    def gradient(self, params: Any, rows: IntArray) -> tuple[float, Any]:
        """Summed loss of ``params`` (one network) on the training ``rows`` and its block gradients."""

    def epochs(self) -> Iterator[Epoch]:
        while self.descent.done < self.spec.epochs:
            yield self.descent.epoch()

    def state_dict(self) -> dict[str, Any]:
        return self.descent.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.descent.load_state_dict(state)

    @staticmethod
    def describe(notes: dict[str, Any]) -> str:
        return (f"{notes['updates']} updates, mean |g| {notes['grad_norm']:.3g} (largest {notes['largest_grad_norm']:.3g}), "
                f"{notes['projected']} projections, {notes['on_bound']} of {notes['parameters']} parameters on a bound")
