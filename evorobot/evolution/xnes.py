"""Exponential natural evolution strategy (xNES) in ask/tell form.

xNES (Glasmachers et al. 2010; Wierstra et al. 2014, Algorithm 5) searches with a Gaussian of
full covariance ``(sigma B)(sigma B)^T``, ``det B = 1``: a sample is ``x = mean + sigma B z``
with ``z`` standard normal. From the rank-based utilities ``u_k`` of
:mod:`evorobot.evolution.nes` (they sum to zero) it forms the natural gradient in the local
coordinates ``z``,

    G_delta = sum_k u_k z_k,     G_M = sum_k u_k (z_k z_k^T - I),
    G_sigma = tr(G_M) / G,       G_B = G_M - G_sigma I,

and updates multiplicatively through the matrix exponential (scipy.linalg.expm):

    mean  <- mean + eta_mu * sigma * B G_delta
    sigma <- sigma * exp(eta_sigma / 2 * G_sigma)
    B     <- B expm(eta_B / 2 * G_B)

(sampling and all three updates work in the same local coordinates ``z``). The cost per
generation is O(G^3) (the exponential of a G x G matrix): for genomes of hundreds of genes prefer
``snes`` or ``cmaes`` with ``diagonal = true``.

Adapted here: ``population`` defaults to 16 (the paper's 4 + floor(3 ln G) depends on the genome
size, which a settings table cannot refer to); ``eta_sigma = 0`` and ``eta_b = 0`` mean the
paper's 3 (3 + ln G) / (5 G sqrt G); the mean starts at zero (or uniform in the box) with
``sigma = sigma0`` and ``B = I``. Bounds: samples are clipped to [-1, 1] when asked and the
update uses the unclipped draws; the mean is clipped to [-1, 1] after each update (see
:mod:`evorobot.evolution.nes`). ``seed_population`` centres the distribution on the mean of the
given genomes. The state (mean, sigma, B, and the draws of an asked generation) resumes bit for bit.

References
----------
T. Glasmachers, T. Schaul, Y. Sun, D. Wierstra & J. Schmidhuber (2010). Exponential natural
evolution strategies. Proceedings of GECCO 2010, 393-400.
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

__all__ = ["XNES", "XNESSpec", "xnes_eta"]


def xnes_eta(g: int) -> float:
    """The paper's learning rate of sigma and B for ``g`` genes: 3 (3 + ln g) / (5 g sqrt g)."""
    return 3.0 * (3.0 + math.log(g)) / (5.0 * g * math.sqrt(g))


@dataclass(frozen=True)
class XNESSpec(NESSpec):
    """Settings of the ``[optimizer]`` table for ``type = "xnes"``."""

    eta_sigma: float = setting(0.0, ge=0, doc="learning rate of sigma; 0: the paper's 3 (3 + ln G) / (5 G sqrt G)")
    eta_b: float = setting(0.0, ge=0, doc="learning rate of B; 0: the paper's 3 (3 + ln G) / (5 G sqrt G)")


class XNES(NESOptimizer):
    """Exponential NES on the optimizer contract (see the module docstring)."""

    name: ClassVar[str] = "xnes"
    Spec: ClassVar[type] = XNESSpec

    def __init__(self, spec: XNESSpec, layout: GenomeLayout, seed: np.random.SeedSequence,
                 where: str = "[optimizer]") -> None:
        super().__init__(spec, layout, seed, where)
        self.sigma = float(spec.sigma0)
        self.B: FloatArray = np.eye(self.genome_size)
        self.eta_sigma = spec.eta_sigma or xnes_eta(self.genome_size)
        self.eta_b = spec.eta_b or xnes_eta(self.genome_size)

    def _transform(self, z: FloatArray) -> FloatArray:
        return self.mean + self.sigma * (z @ self.B.T)

    def _update(self, z: FloatArray, u: FloatArray) -> None:
        from scipy.linalg import expm  # deferred: scipy.linalg is slow to import

        eye = np.eye(self.genome_size)
        g_delta = u @ z
        g_m = (z * u[:, None]).T @ z - u.sum() * eye
        g_sigma = float(np.trace(g_m)) / self.genome_size
        g_b = g_m - g_sigma * eye
        self.mean = self.mean + self.spec.eta_mu * self.sigma * (self.B @ g_delta)
        self.sigma = self.sigma * math.exp(0.5 * self.eta_sigma * g_sigma)
        self.B = self.B @ expm(0.5 * self.eta_b * g_b)

    def _shape_state(self) -> dict[str, Any]:
        return {"sigma": np.array([self.sigma]), "B": self.B.copy()}

    def _load_shape(self, state: dict[str, Any], where: str) -> None:
        sigma = float(get_array(state, "sigma", (1,), where)[0])
        b = get_array(state, "B", (self.genome_size, self.genome_size), where)
        if not (math.isfinite(sigma) and sigma > 0 and np.all(np.isfinite(b))):
            raise ChampionFileError(f"{where}: optimizer state `sigma` or `B` is not finite and positive")
        self.sigma, self.B = sigma, b
