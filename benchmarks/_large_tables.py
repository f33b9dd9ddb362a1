"""The two tables of issue 13 (random counts, fixed seeds), as cells/domains/finest/hierarchies.

(a) 5 regions > 100 municipalities x 8 age groups x sex: 106 x 9 x 3 = 2 862 cells.
(b) 10 regions > 340 municipalities x 12 age groups x 10 citizenships: 351 x 13 x 11 =
    50 193 cells, about a quarter of the inner cells 1 to 4.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from suoja.protect.cube import Dimension
from suoja.protect.generic import complete_table


def _problem(counts: np.ndarray, domains: dict[str, list[str]],
             hierarchies: dict[str, dict[str, str]]):
    names = list(domains)
    index = np.argwhere(counts > 0)
    finest = pl.DataFrame({n: [domains[n][i] for i in index[:, k]] for k, n in enumerate(names)}
                          | {"value": counts[counts > 0].astype(np.int64)})
    dims = [Dimension.build(n, domains[n], hierarchies.get(n)) for n in names]
    cells = complete_table(finest.rename({"value": "n"}), dims, "n").rename({"n": "value"})
    keys = [pl.lit(f"{n}=") + pl.col(n) for n in names]
    cells = cells.with_columns(pl.concat_str(keys, separator=";").alias("key"))
    return cells.select("table", "key", *names, "value"), domains, finest, hierarchies


def _municipalities(regions: int, per_region: int) -> tuple[list[str], dict[str, str]]:
    leaves = [f"M{r:02d}{m:02d}" for r in range(regions) for m in range(per_region)]
    return leaves, {leaf: f"R{leaf[1:3]}" for leaf in leaves}


def table_a(seed: int = 13):
    """5 regions > 100 municipalities x 8 ages x sex; about 490 cells of 1 to 4."""
    rng = np.random.default_rng(seed)
    munis, parents = _municipalities(5, 20)
    size = rng.lognormal(1.95, 0.9, size=len(munis))
    counts = rng.poisson(size[:, None, None] * np.ones((1, 8, 2)))
    domains = {"region": munis, "age": [f"A{i}" for i in range(8)], "sex": ["F", "M"]}
    return _problem(counts, domains, {"region": parents})


def table_b(seed: int = 13):
    """10 regions > 340 municipalities x 12 ages x 10 citizenships (50 193 cells)."""
    rng = np.random.default_rng(seed)
    munis, parents = _municipalities(10, 34)
    size = rng.lognormal(2.3, 0.8, size=len(munis))
    cit = np.array([8, 3, 2, 1.5, 1.2, 1, 0.8, 0.7, 0.6, 0.5])
    counts = rng.poisson(size[:, None, None] * np.ones((1, 12, 1)) * cit[None, None, :] / 2)
    domains = {"region": munis, "age": [f"A{i:02d}" for i in range(12)],
               "citizenship": [f"C{i}" for i in range(10)]}
    return _problem(counts, domains, {"region": parents})
