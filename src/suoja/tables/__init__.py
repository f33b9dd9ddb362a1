"""The tables stage: the catalogue of tables and their counts, margins included.

Takes the register's frames and the catalogue (``catalogue.toml``) and returns, per
population, a cube of person-level codes (``compute_cubes``) and, per table, its counts with
every margin (``compute_tables``): pure Polars, nothing written. Modules: ``catalogue``
(the table catalogue), ``facts`` (the catalogue's declared facts), ``populations`` (who is
counted in which population), ``cubes`` (cubes, tables and margins).
"""

from suoja.tables.catalogue import Catalogue, TableSpec, read_catalogue
from suoja.tables.cubes import compute_cubes, compute_tables

__all__ = ["Catalogue", "TableSpec", "compute_cubes", "compute_tables", "read_catalogue"]
