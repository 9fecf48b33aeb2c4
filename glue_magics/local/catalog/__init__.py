"""The local endpoint's Data Catalog: databases, tables and partitions through the Glue API,
kept in ``DATA_DIR/catalog`` (:mod:`.store`), with what Spark and ``awsglue`` see of it
(:mod:`.spark`, :mod:`.source`).

- ``names``: names folded to lowercase as the service stores them; their file names
- ``expression``: GetPartitions' Expression, parsed and asked of each partition
- ``store``: the files, written whole or not at all, under one file lock
- ``records``: a database's or table's record found (or EntityNotFound), NextToken pages
- ``backend``: :class:`Catalog`, the operations, raising the service's errors
- ``partitions``: :class:`Partitions`, the partition operations (the catalog's too)
- ``source``: ``table_source``: a table's paths, format and reader options (``from_catalog``)
- ``spark``: the catalog's tables made visible to Spark SQL, and saveAsTable's written back
"""

from __future__ import annotations

from glue_magics.local.catalog.backend import Catalog

__all__ = ["Catalog"]
