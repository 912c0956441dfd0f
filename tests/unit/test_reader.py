"""Reading baseline tables: formats, progress, and one clear line per failure."""

from __future__ import annotations

import pandas as pd
import pytest

from mlmon.baseline import read_table
from mlmon.baseline import reader as reader_module
from mlmon.errors import ProfileError

DATA = pd.DataFrame({"a": range(1000), "b": ["x", "y"] * 500, "c": [0.5] * 1000})


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.parquet", "t.pq"])
def test_formats_read_back_the_same_table(tmp_path, name):
    path = tmp_path / name
    if ".csv" in name:
        DATA.to_csv(path, index=False)
    else:
        DATA.to_parquet(path, row_group_size=300)
    seen = []
    table = read_table(path, progress=lambda done, total: seen.append((done, total)))
    pd.testing.assert_frame_equal(table, DATA)
    assert seen and seen[-1][0] == seen[-1][1]
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_large_csv_reads_in_chunks_with_progress(tmp_path, monkeypatch):
    monkeypatch.setattr(reader_module, "CSV_CHUNK_ROWS", 100)
    path = tmp_path / "big.csv"
    DATA.to_csv(path, index=False)
    seen = []
    table = read_table(path, progress=lambda done, total: seen.append(done))
    assert len(table) == 1000 and len(seen) >= 10


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("empty.csv", "", "empty"),
        ("header.csv", "a,b\n", "no rows"),
        ("broken.csv", "a,b\n1,2\n3,4,5,6\n", "line 3"),
        ("data.xlsx", "x", "unknown file type"),
        ("bad.parquet", "not parquet", "not a readable Parquet file"),
    ],
)
def test_failures_are_one_line_profile_errors(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ProfileError, match=fragment) as info:
        read_table(path)
    assert "\n" not in str(info.value) and name in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ProfileError, match="no such file"):
        read_table(tmp_path / "absent.csv")
