"""OpenAI-ES (Salimans et al. 2017) in ask/tell form, with the defaults of Nolfi's evorobotpy2.

A centre ``c`` is perturbed by ``population / 2`` mirrored (antithetic) pairs
``c + s eps_b, c - s eps_b`` (``s = noise_std``, ``eps_b`` standard normal; rows ``2b`` and
``2b + 1`` of the asked genomes). The fitness is replaced by centred ranks in [-0.5, 0.5]
(:func:`~evorobot.evolution.base.centered_ranks`), the gradient is estimated as

    g = sum_b (r_2b - r_2b+1) eps_b / population

and the centre follows ``g - weight_decay * c`` with Adam (Kingma & Ba 2015; step size
``step_size`` with the bias correction folded into it, ``epsilon`` added to ``sqrt(v)``), as
evorobotpy2's ``openaies.py`` does: it hands Adam ``-g + 0.005 c`` to minimise when ``wdecay``
is on. Like evorobotpy2 (and Salimans et al.'s code) ``g`` is not divided by ``noise_std``:
Adam's normalisation makes that factor irrelevant.

Defaults as evorobotpy2's: ``population`` 40 (its ``sampleSize`` 20 pairs), ``noise_std`` 0.02,
``step_size`` 0.01, Adam's beta1 0.9, beta2 0.999, epsilon 1e-8; ``weight_decay`` 0.005 is the
coefficient evorobotpy2 applies when its ``wdecay`` flag is on (its locomotion experiments turn it
on; its code default is off: set 0 to switch it off). The centre starts at zero (or uniform in
the box).

Adapted here: genes live in [-1, 1]. The centre is clipped to [-1, 1] after each update and the
samples are clipped when asked (the gradient uses the unclipped perturbations).
``seed_population`` sets the centre to the mean of the given genomes. The state (centre, Adam's
moments and step count, and the perturbations of an asked generation) resumes bit for bit.

References
----------
T. Salimans, J. Ho, X. Chen, S. Sidor & I. Sutskever (2017). Evolution strategies as a scalable
alternative to reinforcement learning. arXiv:1703.03864.
D. P. Kingma & J. Ba (2015). Adam: a method for stochastic optimization. ICLR 2015.
S. Nolfi, evorobotpy2 (https://github.com/snolfi/evorobotpy2), ``bin/openaies.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evorobot._types import FloatArray
from evorobot.errors import ConfigError
from evorobot.evolution.base import GenomeLayout, Optimizer, centered_ranks, get_array, get_int
from evorobot.spec import setting

__all__ = ["OpenAIES", "OpenAIESSpec"]


@dataclass(frozen=True)
class OpenAIESSpec:
    """Settings of the ``[optimizer]`` table for ``type = "openai_es"``."""

    population: int = setting(40, ge=2, doc="samples per generation, even: population / 2 mirrored pairs")
    noise_std: float = setting(0.02, gt=0, doc="standard deviation of the perturbations, in gene units")
    step_size: float = setting(0.01, gt=0, doc="Adam's step size")
    weight_decay: float = setting(0.005, ge=0, doc="L2 decay: -weight_decay * centre is added to the gradient; 0: off")
    beta1: float = setting(0.9, ge=0, doc="Adam's decay of the first moment, < 1")
    beta2: float = setting(0.999, ge=0, doc="Adam's decay of the second moment, < 1")
    epsilon: float = setting(1e-8, gt=0, doc="Adam's epsilon, added to sqrt(v)")
    initial_mean: str = setting("zero", choices=("zero", "uniform"),
                                doc="zero: the centre of the box; uniform: each gene uniform in [-1, 1]")

    def validate(self, where: str) -> None:
        """Mirrored sampling needs pairs; Adam's decays must be below 1."""
        if self.population % 2:
            raise ConfigError(f"{where}: `population` must be even (mirrored pairs), got {self.population}")
        for key in ("beta1", "beta2"):
            if getattr(self, key) >= 1:
                raise ConfigError(f"{where}: `{key}` must be < 1, got {getattr(self, key)!r}")


class OpenAIES(Optimizer):
    """OpenAI-ES with mirrored sampling, centred ranks and Adam (see the module docstring)."""

    name: ClassVar[str] = "openai_es"
    Spec: ClassVar[type] = OpenAIESSpec

    def __init__(self, spec: OpenAIESSpec, layout: GenomeLayout, seed: np.random.SeedSequence,
                 where: str = "[optimizer]") -> None:
        super().__init__(spec, layout, seed, where)
        spec.validate(where)
        g = self.genome_size
        self.center: FloatArray = (self.rng.uniform(-1.0, 1.0, g) if spec.initial_mean == "uniform"
                                   else np.zeros(g))
        self.m: FloatArray = np.zeros(g)
        self.v: FloatArray = np.zeros(g)
        self.steps = 0
        self._eps: FloatArray | None = None  # perturbations of the asked, untold generation

    def _ask(self) -> FloatArray:
        self._eps = self.rng.standard_normal((self.population_size // 2, self.genome_size))
        step = self.spec.noise_std * self._eps
        pairs = np.stack([self.center + step, self.center - step], axis=1)
        return np.clip(pairs.reshape(self.population_size, self.genome_size), -1.0, 1.0)

    def gradient(self, fitness: FloatArray) -> FloatArray:
        """The ascent direction estimated from the asked generation's fitness (no weight decay)."""
        assert self._eps is not None, "gradient before ask"
        ranks = centered_ranks(fitness)
        weights = ranks[0::2] - ranks[1::2]
        return (weights @ self._eps) / self.population_size

    def _tell(self, genomes: FloatArray, fitness: FloatArray) -> None:
        s = self.spec
        loss_grad = -self.gradient(fitness) + s.weight_decay * self.center  # Adam minimises
        self.steps += 1
        t = self.steps
        a = s.step_size * math.sqrt(1.0 - s.beta2 ** t) / (1.0 - s.beta1 ** t)
        self.m = s.beta1 * self.m + (1.0 - s.beta1) * loss_grad
        self.v = s.beta2 * self.v + (1.0 - s.beta2) * (loss_grad * loss_grad)
        self.center = np.clip(self.center - a * self.m / (np.sqrt(self.v) + s.epsilon), -1.0, 1.0)
        self._eps = None

    def _seed(self, genomes: FloatArray) -> None:
        self.center = genomes.mean(axis=0)
        self._eps = None

    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"center": self.center.copy(), "adam_m": self.m.copy(),
                                 "adam_v": self.v.copy(), "adam_steps": self.steps}
        if self._eps is not None:
            state["perturbations"] = self._eps.copy()
        return state

    def _load(self, state: dict[str, Any], where: str) -> None:
        g = self.genome_size
        self.center = get_array(state, "center", (g,), where)
        self.m = get_array(state, "adam_m", (g,), where)
        self.v = get_array(state, "adam_v", (g,), where)
        self.steps = get_int(state, "adam_steps", where)
        self._eps = None
        if self._asked is not None:  # from_state_dict restored an asked, untold generation
            self._eps = get_array(state, "perturbations", (self.population_size // 2, g), where)
