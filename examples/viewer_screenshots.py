"""Screenshots of the viewer for the README (issue 18): categorical perception, phototaxis, a team.

Each opens a champion (when its run directory has one) or a world file's random genome
(``--genome-seed``) in :class:`evorobot.viewer.app.Viewer` under SDL's dummy driver, steps a number
of ticks, draws one 1100 x 650 frame and saves it::

    SDL_VIDEODRIVER=dummy python examples/viewer_screenshots.py [--runs runs] [--out docs]

with ``runs/cp-s1`` and ``runs/pt-s1`` made by ``evorobot evolve worlds/categorical_perception.toml
--seed 1 --out runs/cp-s1`` and ``evorobot evolve worlds/phototaxis.toml --seed 1 --out runs/pt-s1``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from evorobot.source import open_source
from evorobot.viewer.app import Viewer

ROOT = Path(__file__).resolve().parent.parent
SHOTS = (  # (file name, champion run directory under --runs tried first, world file, trial, ticks)
    ("viewer_categorical_perception.png", "cp-s1", "worlds/categorical_perception.toml", 3, 300),
    ("viewer_phototaxis.png", "pt-s1", "worlds/phototaxis.toml", 0, 150),
    ("viewer_team.png", None, "worlds/coordinated_movement.toml", 0, 120),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="folder of the champion runs (default runs/)")
    parser.add_argument("--genome-seed", type=int, default=1)
    args = parser.parse_args()
    pygame.font.init()
    for name, run, world, trial, ticks in SHOTS:
        champion = run is not None and (args.runs / run / "champion.json").is_file()
        target = str(args.runs / run / "champion.json") if champion else str(ROOT / world)
        viewer = Viewer(open_source(target, [], args.genome_seed, None), trial=trial)
        viewer.step(ticks)
        surface = pygame.Surface((1100, 650))
        viewer.draw(surface)
        pygame.image.save(surface, str(args.out / name))
        what = "champion" if champion else f"random genome, --genome-seed {args.genome_seed}"
        print(f"{args.out / name}: {target} ({what}), trial {trial}, {ticks} ticks")


if __name__ == "__main__":
    main()
