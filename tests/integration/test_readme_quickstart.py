"""The README's quickstart, run as written (under a fresh model name) on the real node.

The training-file snippet, `mlmon baseline register` with the line the README
prints, the SDK example, and the tagged document the README shows: if any of
them stops being true, the README is wrong and this fails.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from conftest import run_mlmon

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
QUICKSTART = README.split("## Quickstart, step by step", 1)[1].split("\n## ", 1)[0]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", QUICKSTART, flags=re.S)


def _renamed(text: str, model: str) -> str:
    return text.replace('model="fraud"', f'model="{model}"').replace(
        "--model fraud", f"--model {model}"
    )


def test_the_quickstart_does_what_the_readme_says(es, model, tmp_path):
    shell = _blocks("sh")
    make_training = re.search(r"<<'PY'\n(.*?)\nPY\n", shell[1], flags=re.S).group(1)
    subprocess.run([sys.executable, "-c", make_training], cwd=tmp_path, check=True)

    register_line = next(
        line for line in shell[1].splitlines() if line.startswith("mlmon baseline")
    )
    arguments = _renamed(register_line + shell[1].split(register_line, 1)[1], model)
    arguments = arguments.split("#", 1)[0].replace("\\\n", " ").split()[1:]
    arguments = [str(tmp_path / a) if a == "train.csv" else a for a in arguments]
    registered = run_mlmon(*arguments, timeout=300)
    expected = re.search(r"# (Registered profile .*)", shell[1]).group(1)
    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.strip() == expected.replace("fraud:", f"{model}:")

    example = _renamed(_blocks("python")[0], model)
    ran = subprocess.run(
        [sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    stats = ast.literal_eval(ran.stdout.strip().splitlines()[-1])  # it prints log.stats()
    assert stats["emitted"] == stats["sent"] == 2 and stats["tagged"] == 1, stats

    es.indices.refresh(index=f"mlmon-predictions-{model}-*")
    (hit,) = es.search(index=f"mlmon-predictions-{model}-*", size=10)["hits"]["hits"]
    shown = _blocks("json")[0]
    source = hit["_source"]
    assert source["quality"]["unseen"] == ["merchant_name"]
    assert source["quality"]["profile"] == f"{model}:v1:training:r1"
    for key in source["quality"]:
        assert f'"{key}"' in shown, f"the README's document lacks quality.{key}"
