"""From notebook to Glue job: the notebook read as settings and a script (``script``), the
calls that deploy, run and follow it (``deploy``), ``glue-magics job`` (``cli``)."""
