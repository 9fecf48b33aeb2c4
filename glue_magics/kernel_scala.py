"""The ``glue_magics_scala`` kernel ("Glue Spark (glue-magics)"): plain cells are Scala.

The Python kernel (:mod:`glue_magics.kernel`) with two differences, as AWS's Glue Spark
kernel has them (aws-glue-sessions 1.0.9 ``glue_spark/GlueKernel.py``): the sessions it
creates are Scala sessions (DefaultArguments ``--session-language scala``), and its
``language_info`` is Scala's, for highlighting and ``.scala`` export.  Cells are still read
by IPython, so lines starting with ``%`` are our magics and AWS's, run here; the rest of a
cell goes to the session as Scala through ``%%glue``.  Progress, Ctrl-C (cancels the
statement), cost, stop on exit and the watchdog are the Python kernel's own.

A cell magic that runs Python here (``%%local``) still does: it is the one way to run code
in this kernel itself.
"""

from __future__ import annotations

from typing import Any

from glue_magics.kernel import GlueKernel

SCALA = "scala"


class GlueScalaKernel(GlueKernel):
    """IPython kernel whose plain cells run as Scala in an AWS Glue interactive session."""

    implementation = "glue_magics_scala"
    banner = "glue-magics: plain cells run as Scala in an AWS Glue session (%%local runs here)"
    language_info = {
        "name": "scala",
        "mimetype": "text/x-scala",
        "file_extension": ".scala",
        "codemirror_mode": "text/x-scala",
        "pygments_lexer": "scala",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._glue.manager.languages.code = SCALA  # plain cells are Scala: Python sessions refuse
        # the sessions made here are Scala ones (as %config GlueMagics.session_language = ...;
        # %%configure and %glue_session flags still say otherwise)
        self._glue.session_language = SCALA


def main() -> None:
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(kernel_class=GlueScalaKernel)


if __name__ == "__main__":
    main()
