"""Optimizers (ask/tell) by name; the contract is :mod:`evorobot.evolution.base`.

``OPTIMIZERS`` maps the ``type`` of a world file's ``[optimizer]`` table to its class; each class
carries its settings dataclass as ``Spec`` and is built as ``cls(spec, layout, seed, where)``.
Optimizers know nothing of robots: they see genomes in [-1, 1] and fitness to maximise.
"""

from __future__ import annotations

from evorobot.errors import UnknownNameError
from evorobot.evolution.base import GenerationStats, GenomeLayout, Optimizer
from evorobot.evolution.cmaes import CMAES
from evorobot.evolution.cosyne import CoSyNE
from evorobot.evolution.esp import ESP
from evorobot.evolution.ga import GA, GASpec
from evorobot.evolution.microbial import MicrobialGA
from evorobot.evolution.openai_es import OpenAIES
from evorobot.evolution.pso import ParticleSwarm
from evorobot.evolution.sa import SimulatedAnnealing
from evorobot.evolution.snes import SNES
from evorobot.evolution.xnes import XNES
from evorobot.spec import did_you_mean

OPTIMIZERS: dict[str, type[Optimizer]] = {
    # genetic algorithms (Beer's TSearch; Harvey's microbial GA)
    "ga": GA,
    "microbial": MicrobialGA,
    # simulated annealing, particle swarm
    "sa": SimulatedAnnealing, "pso": ParticleSwarm,
    # evolution strategies
    "cmaes": CMAES, "openai_es": OpenAIES, "xnes": XNES, "snes": SNES,
    # cooperative coevolution (Gomez et al.)
    "cosyne": CoSyNE, "esp": ESP,
}

__all__ = ["CMAES", "ESP", "GA", "OPTIMIZERS", "SNES", "XNES", "CoSyNE", "GASpec", "GenerationStats", "GenomeLayout",
           "MicrobialGA", "OpenAIES", "Optimizer", "ParticleSwarm", "SimulatedAnnealing", "get_optimizer"]


def get_optimizer(name: str, where: str) -> type[Optimizer]:
    """The optimizer class registered as ``name``; ``where`` names the file and table for errors."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        valid = ", ".join(f"`{n}`" for n in OPTIMIZERS)
        raise UnknownNameError(
            f"{where}: unknown optimizer `{name}`{did_you_mean(str(name), OPTIMIZERS)};"
            f" valid names: {valid}"
        ) from None
