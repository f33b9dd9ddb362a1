"""Registers larger than memory: :func:`write_scaled_parts` writes partitioned Parquet, one
part (a :func:`~suoja.synth._scale.scaled_register` of its own) at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from suoja.synth._scale import scaled_register


def write_scaled_parts(
    n_persons: int, folder: Path, parts: int, seed: int = 0,
    years: tuple[int, int] = (2006, 2025),
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write a register of about ``n_persons`` persons as partitioned Parquet, one part at
    a time, so that registers larger than memory can be made (what a warehouse or Spark
    writes: ``FOLDER/NAME/part-00000.parquet`` ...).

    Each part is a :func:`scaled_register` of ``n_persons / parts`` persons with its own
    seed; its identifiers (every ``*_id`` column) start with the part's number, so that
    they are unique across parts. Memory is that of one part.

    Args:
        n_persons: roughly how many persons in all.
        folder: where to write; one folder per table is created in it.
        parts: how many parts (at least 1).
        seed: seed of the whole register; part ``k`` uses ``seed * 100_003 + k``.
        years: first and last year of the history.
        progress: ``progress(done, parts)`` after each part.

    Returns:
        Rows written per table.

    Raises:
        ValueError: when ``parts`` is not positive or larger than ``n_persons``, or as
            :func:`scaled_register`.
    """
    if not 1 <= parts <= n_persons:
        raise ValueError(f"need 1 <= parts <= n_persons, got {parts} parts")
    folder = Path(folder)
    rows: dict[str, int] = {}
    width = len(str(parts - 1))
    for k in range(parts):
        size = n_persons // parts + (1 if k < n_persons % parts else 0)
        frames = scaled_register(size, seed=seed * 100_003 + k, years=years)
        prefix = f"{k:0{width}d}-"
        for name, frame in frames.items():
            ids = [c for c in frame.columns if c.endswith("_id")]
            frame = frame.with_columns((pl.lit(prefix) + pl.col(c)).alias(c) for c in ids)
            (folder / name).mkdir(parents=True, exist_ok=True)
            frame.write_parquet(folder / name / f"part-{k:05d}.parquet")
            rows[name] = rows.get(name, 0) + frame.height
        del frames
        if progress is not None:
            progress(k + 1, parts)
    return rows
