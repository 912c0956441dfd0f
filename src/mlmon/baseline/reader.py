"""Read a baseline table (CSV or Parquet) with progress, turning every failure into one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow
import pyarrow.parquet as pq

from mlmon.errors import ProfileError

Progress = Callable[[int, int], None]
CSV_CHUNK_ROWS = 200_000


def read_table(path: str | Path, *, progress: Progress | None = None) -> pd.DataFrame:
    """CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``), chosen by extension.

    ``progress(done, total)`` is called as it reads: bytes for CSV, rows for Parquet.
    """
    path = Path(path)
    name = path.name.lower()
    if not path.is_file():
        raise ProfileError(f"{path}: no such file")
    if name.endswith((".csv", ".csv.gz")):
        return _read_csv(path, progress)
    if name.endswith((".parquet", ".pq")):
        return _read_parquet(path, progress)
    raise ProfileError(f"{path}: unknown file type; use .csv, .csv.gz, .parquet or .pq")


def _read_csv(path: Path, progress: Progress | None) -> pd.DataFrame:
    total = path.stat().st_size
    if total == 0:
        raise ProfileError(f"{path}: the file is empty")
    chunks = []
    try:
        with open(path, "rb") as raw:
            reader = pd.read_csv(
                raw,
                chunksize=CSV_CHUNK_ROWS,
                compression="infer" if not path.name.endswith(".gz") else "gzip",
                low_memory=False,
            )
            for chunk in reader:
                chunks.append(chunk)
                if progress:
                    progress(min(raw.tell(), total), total)
    except pd.errors.EmptyDataError:
        raise ProfileError(f"{path}: no columns to read (empty or blank file)") from None
    except pd.errors.ParserError as exc:
        raise ProfileError(f"{path}: malformed CSV: {str(exc).strip().splitlines()[-1]}") from None
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise ProfileError(f"{path}: cannot read: {exc}") from None
    if progress:
        progress(total, total)
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    if frame.empty:
        raise ProfileError(f"{path}: the file has a header but no rows")
    return frame


def _read_parquet(path: Path, progress: Progress | None) -> pd.DataFrame:
    try:
        parquet = pq.ParquetFile(path)
        total = parquet.metadata.num_rows
        tables, done = [], 0
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group)
            tables.append(table)
            done += table.num_rows
            if progress:
                progress(done, total)
    except (pyarrow.ArrowException, OSError) as exc:
        raise ProfileError(f"{path}: not a readable Parquet file: {exc}") from None
    if not tables or total == 0:
        raise ProfileError(f"{path}: the file has no rows")
    return pyarrow.concat_tables(tables).to_pandas()
