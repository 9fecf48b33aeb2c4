"""``%glue_job deploy``: this notebook as a Glue job, from the notebook itself.

Thin, as the other magics: it finds the notebook's file (the frontend's path, as the
session tags do), takes the clients of the current settings (the embedded endpoint's too,
with its object store), and hands over to ``jobs.cli.deploy_flow``, the same flow as
``glue-magics job deploy``.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from glue_magics import arguments


def _deploy_flags(magic: Any) -> Any:
    """``glue-magics job deploy``'s flags (one table: ``jobs.cli.DEPLOY_FLAGS``) on a magic."""
    from glue_magics.jobs.cli import DEPLOY_FLAGS

    for names, kwargs in reversed(DEPLOY_FLAGS):  # decorators apply from the bottom up
        magic = argument(*names, **kwargs)(magic)
    return magic


@magics_class
class JobMagics(Magics):
    """``%glue_job``, beside ``GlueMagics`` (whose clients and settings it uses)."""

    def __init__(self, shell: Any, glue: Any) -> None:
        super().__init__(shell=shell)
        self.glue = glue  # the GlueMagics instance: its session manager and settings

    @magic_arguments()
    @argument("verb", choices=["deploy"], help="deploy: this notebook as a Glue job")
    @_deploy_flags
    @line_magic
    def glue_job(self, line: str = "") -> None:
        """Deploy this notebook as a Glue job: its magics are the job's settings, its
        session cells the script; ``--run`` starts a run and follows it."""
        from glue_magics import tags
        from glue_magics.jobs.cli import Deploy, deploy_flow
        from glue_magics.jobs.script import NotebookError
        from glue_magics.service import GlueError

        args = arguments.parse(self.glue_job, line)
        path = tags.notebook(user_ns=self.shell.user_ns)
        if not path:
            raise UsageError(
                "%glue_job: this notebook's file is not known here (no frontend said it); "
                "run glue-magics job deploy NOTEBOOK --name NAME from a terminal"
            )
        manager = self.glue.manager
        clients = manager.current_clients()
        asked = Deploy(
            path, args.name, args.role, args.script_location, args.run, args.arg,
            args.dry_run, args.force, self.glue.dpu_hour_price,
        )  # fmt: skip
        below = [
            (source, layer)
            for source, layer in manager.options.layers()
            if source not in ("line", "configure")  # the notebook's own magics say those
        ]
        try:
            status = deploy_flow(
                asked,
                lambda: clients.glue,
                lambda: _s3(manager, clients),
                lambda: _account(manager, clients),
                below,
            )
        except (NotebookError, GlueError) as exc:
            raise UsageError(f"%glue_job: {exc}") from None
        if status:
            raise UsageError("%glue_job: the run did not succeed (see above)")


def _s3(manager: Any, clients: Any) -> Any:
    """The S3 client for the script: the embedded endpoint's own store, else the user's."""
    if not clients.embedded:
        return clients.s3()
    from glue_magics.service import make_client

    local = manager.clients.local
    return make_client(
        "s3",
        region=clients.region,
        endpoint_url=clients.endpoint_url,
        credentials=local.credentials,
    )


def _account(manager: Any, clients: Any) -> str:
    if clients.embedded:
        return manager.clients.local.settings.account_id
    from glue_magics.jobs.cli import _account as account_of
    from glue_magics.service import make_client

    sts = make_client("sts", region=clients.region, profile=clients.profile)
    return account_of(sts, clients.endpoint_url)
