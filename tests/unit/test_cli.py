"""The CLI's contract for errors: one line, no traceback, a documented exit code."""

from __future__ import annotations

import os
import subprocess
import sys


def mlmon(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlmon", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


def test_down_cluster_is_one_line_and_exit_3():
    done = mlmon("setup", MLMON_ES_URL="http://127.0.0.1:1")
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "unreachable" in lines[0] and "mlmon stack up" in lines[0]
    assert "Traceback" not in done.stderr


def test_bad_settings_are_exit_2():
    done = mlmon("setup", MLMON_ES_URL="localhost:9200")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "mlmon: error: MLMON_ES_URL 'localhost:9200' is not an http(s) URL like http://127.0.0.1:9200"
    )


def test_bad_arguments_are_exit_2():
    assert mlmon("baseline", "register", "--model", "m").returncode == 2
    done = mlmon("tag", "--model", "Not*Valid", MLMON_ES_URL="http://127.0.0.1:1")
    assert done.returncode == 2 and "model name" in done.stderr and "Traceback" not in done.stderr
    assert mlmon("nonsense").returncode == 2


def test_help_teaches():
    done = mlmon("--help")
    assert done.returncode == 0
    for word in ("MLMON_ES_URL", "stack", "setup", "baseline", "ingest", "tag", "Exit codes"):
        assert word in done.stdout


def test_a_malformed_baseline_file_is_named_before_the_cluster_is_asked(tmp_path):
    broken = tmp_path / "train.csv"
    broken.write_text("a,b\n1,2\n3,4,5,6\n")
    done = mlmon(
        "baseline",
        "register",
        "--model",
        "m",
        "--version",
        "v1",
        str(broken),
        MLMON_ES_URL="http://127.0.0.1:1",
    )
    assert done.returncode == 2
    assert "train.csv: malformed CSV" in done.stderr and "line 3" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    missing_column = tmp_path / "ok.csv"
    missing_column.write_text("a,b\n1,2\n")
    done = mlmon(
        "baseline",
        "register",
        "--model",
        "m",
        "--version",
        "v1",
        "--label-column",
        "label",
        str(missing_column),
        MLMON_ES_URL="http://127.0.0.1:1",
    )
    assert done.returncode == 2 and "column 'label' is not in the table" in done.stderr
