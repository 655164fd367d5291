"""The Python API: the README's "Python API" section runs as written, and `import evorobot` stays light."""

import doctest
import os
import subprocess
import sys

from conftest import ROOT


def _readme_examples() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python API"):]
    section = section[: section.index("\n## ", 1)]
    blocks = [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]
    assert blocks, "the README's Python API section has no example"
    return "\n".join(blocks)


def test_readme_python_api_runs_as_written(tmp_path, monkeypatch):
    (tmp_path / "worlds").symlink_to(ROOT / "worlds")
    monkeypatch.chdir(tmp_path)
    test = doctest.DocTestParser().get_doctest(_readme_examples(), {}, "README Python API", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and runner.tries >= 10
    assert (tmp_path / "runs" / "api-demo" / "champion.json").is_file()


def test_import_loads_neither_numba_nor_pygame_until_a_name_is_used():
    code = ("import sys, evorobot; a = {'numba', 'pygame'} & set(sys.modules); f = evorobot.load_world; "
            "b = 'numba' in sys.modules; print(sorted(a), b, callable(f))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[] False True"


def test_unknown_names_are_attribute_errors():
    import evorobot

    try:
        evorobot.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("evorobot.no_such_thing should not exist")
    assert {"load_world", "evolve", "Episode"} <= set(dir(evorobot))
