"""glue-magics: AWS Glue interactive sessions from any Jupyter notebook.

``%load_ext glue_magics`` registers the magics.  Importing this package is cheap on
purpose: boto3 and ipywidgets load at first use, not here.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """Register ``GlueMagics`` with IPython (called by ``%load_ext glue_magics``)."""
    from glue_magics.magics import GlueMagics

    ipython.register_magics(GlueMagics(shell=ipython))


def unload_ipython_extension(ipython: Any) -> None:
    """Stop sessions this shell created when the extension is unloaded."""
    from glue_magics.magics import GlueMagics

    magics = ipython.magics_manager.registry.get(GlueMagics.__name__)
    if magics is not None:
        magics.close()
