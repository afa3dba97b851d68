"""The DuckDB storage formats a new posture database can be created in; no imports, so the spec
(plugin/source/spec.py) can name them without loading DuckDB.

`v1.4.0` opens in DuckDB 1.4 (the LTS release) and every later DuckDB; `latest` is the running
DuckDB's newest format, which DuckDB 1.x refuses ("Trying to read a database file with version
number 999"). An existing file keeps its format whatever is asked (plugin/store/files.py).
"""

STORAGE_VERSIONS = ("v1.4.0", "latest")
DEFAULT_STORAGE_VERSION = "v1.4.0"
