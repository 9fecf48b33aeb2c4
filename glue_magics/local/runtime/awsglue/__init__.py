"""glue-magics' own ``awsglue`` for local Glue sessions, on pyspark's DataFrame API.

Written from AWS's documentation of the Glue PySpark extensions (not from AWS's code), with
the same module tree (``awsglue.context``, ``.dynamicframe``, ``.transforms``, ``.utils``,
``.job``, ``.gluetypes``) so Glue scripts import it unchanged.  What it does not cover
raises :class:`awsglue.errors.NotCoveredError` naming the method, in one line.
"""

from awsglue.dynamicframe import DynamicFrame, DynamicFrameCollection

__all__ = ["DynamicFrame", "DynamicFrameCollection"]
