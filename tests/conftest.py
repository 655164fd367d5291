"""Shared fixtures: paths of the shipped files, a small fast experiment."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORLDS = sorted((ROOT / "worlds").glob("*.toml"))
CP_WORLD = ROOT / "worlds" / "categorical_perception.toml"


@pytest.fixture
def cp_world() -> Path:
    return CP_WORLD


@pytest.fixture
def small_world(tmp_path: Path) -> Path:
    """The categorical-perception world shrunk to a fast run: 4 trials, population 6."""
    text = CP_WORLD.read_text().replace('file = "../agents/beer_agent.toml"',
                                        f'file = "{(ROOT / "agents" / "beer_agent.toml").as_posix()}"')
    text = text.replace("offsets = 12", "offsets = 2").replace("population = 96", "population = 6")
    text = text.replace("generations = 300", "generations = 2").replace("chunk_size = 16", "chunk_size = 4")
    p = tmp_path / "small.toml"
    p.write_text(text)
    return p
