"""Separable natural evolution strategy (SNES) in ask/tell form.

SNES (Schaul, Glasmachers & Schmidhuber 2011) searches with a Gaussian of diagonal covariance,
``x = mean + sigma * z`` with ``z`` standard normal and one standard deviation per gene, and
follows the natural gradient of the expected utility:

    mean  <- mean + eta_mu * sigma * sum_k u_k z_k
    sigma <- sigma * exp(eta_sigma / 2 * sum_k u_k (z_k**2 - 1))

with the rank-based utilities ``u_k`` of :mod:`evorobot.evolution.nes` (they sum to zero). Its
cost is linear in the number of genes, which suits genomes of hundreds or thousands of genes.

Adapted here: ``population`` defaults to 16 (the paper's 4 + floor(3 ln G) depends on the genome
size, which a settings table cannot refer to); ``eta_sigma = 0`` means the paper's
(3 + ln G) / (5 sqrt G); the mean starts at zero (or uniform in the box) with every standard
deviation ``sigma0``. Bounds: samples are clipped to [-1, 1] when asked and the update uses the
unclipped draws; the mean is clipped to [-1, 1] after each update (see
:mod:`evorobot.evolution.nes`). ``seed_population`` centres the distribution on the mean of the
given genomes. The state (mean, sigma, and the draws of an asked generation) resumes bit for bit.

References
----------
T. Schaul, T. Glasmachers & J. Schmidhuber (2011). High dimensions and heavy tails for natural
evolution strategies. Proceedings of GECCO 2011, 845-852.
D. Wierstra, T. Schaul, T. Glasmachers, Y. Sun, J. Peters & J. Schmidhuber (2014). Natural
evolution strategies. Journal of Machine Learning Research 15, 949-980.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from evorobot._types import FloatArray
from evorobot.errors import ChampionFileError
from evorobot.evolution.base import GenomeLayout, get_array
from evorobot.evolution.nes import NESOptimizer, NESSpec
from evorobot.spec import setting

__all__ = ["SNES", "SNESSpec", "snes_eta_sigma"]


def snes_eta_sigma(g: int) -> float:
    """The paper's learning rate of sigma for ``g`` genes: (3 + ln g) / (5 sqrt g)."""
    return (3.0 + math.log(g)) / (5.0 * math.sqrt(g))


@dataclass(frozen=True)
class SNESSpec(NESSpec):
    """Settings of the ``[optimizer]`` table for ``type = "snes"``."""

    eta_sigma: float = setting(0.0, ge=0, doc="learning rate of sigma; 0: the paper's (3 + ln G) / (5 sqrt G)")


class SNES(NESOptimizer):
    """Separable NES on the optimizer contract (see the module docstring)."""

    name: ClassVar[str] = "snes"
    Spec: ClassVar[type] = SNESSpec

    def __init__(self, spec: SNESSpec, layout: GenomeLayout, seed: np.random.SeedSequence,
                 where: str = "[optimizer]") -> None:
        super().__init__(spec, layout, seed, where)
        self.sigma: FloatArray = np.full(self.genome_size, spec.sigma0)
        self.eta_sigma = spec.eta_sigma or snes_eta_sigma(self.genome_size)

    def _transform(self, z: FloatArray) -> FloatArray:
        return self.mean + self.sigma * z

    def _update(self, z: FloatArray, u: FloatArray) -> None:
        grad_mean = u @ z
        grad_sigma = u @ (z * z - 1.0)
        self.mean = self.mean + self.spec.eta_mu * self.sigma * grad_mean
        self.sigma = self.sigma * np.exp(0.5 * self.eta_sigma * grad_sigma)

    def _shape_state(self) -> dict[str, Any]:
        return {"sigma": self.sigma.copy()}

    def _load_shape(self, state: dict[str, Any], where: str) -> None:
        sigma = get_array(state, "sigma", (self.genome_size,), where)
        if not np.all(np.isfinite(sigma) & (sigma > 0)):
            raise ChampionFileError(f"{where}: optimizer state `sigma` must be finite and positive")
        self.sigma = sigma
