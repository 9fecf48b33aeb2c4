"""glue-magics: AWS Glue interactive sessions from any Jupyter notebook.

``%load_ext glue_magics`` registers the magics.  Importing this package is cheap on
purpose: boto3 and ipywidgets load at first use, not here.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def lazy_module(name: str) -> Any:
    """Module ``name``, loaded at its first attribute use (importlib's ``LazyLoader``): for
    modules a magic needs only when run, so ``%load_ext`` stays light."""
    import importlib.util
    import sys

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)  # type: ignore[union-attr,arg-type]
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def load_ipython_extension(ipython: Any) -> None:
    """Register ``GlueMagics`` with IPython (called by ``%load_ext glue_magics``)."""
    from glue_magics.jobs.magic import JobMagics
    from glue_magics.magics import GlueMagics

    glue = GlueMagics(shell=ipython)
    ipython.register_magics(glue)
    ipython.register_magics(JobMagics(ipython, glue))


def unload_ipython_extension(ipython: Any) -> None:
    """Stop sessions this shell created when the extension is unloaded."""
    from glue_magics.magics import GlueMagics

    magics = ipython.magics_manager.registry.get(GlueMagics.__name__)
    if magics is not None:
        magics.close()
