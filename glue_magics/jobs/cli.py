"""``glue-magics job``: a notebook as a Glue job, its runs, and following one.

::

    glue-magics job deploy NOTEBOOK --name NAME [--role ARN] [--script-location S3URI]
        [--run] [--arg KEY=VALUE]... [--dry-run] [--force]
        [--region R] [--profile P] [--endpoint-url URL]
    glue-magics job runs NAME

``deploy`` reads the notebook's settings from its own magics and its session cells as the
script (``jobs.script``), uploads the script and creates or updates the job
(``jobs.deploy``); ``--run`` starts a run with the ``--arg``s and follows it to its end:
exit status 0 only for SUCCEEDED.  Ctrl-C while following asks whether to stop the run or
only stop following it.  Bad input is one line and exit status 2; a failed call one line
and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glue_magics.cost import DPU_HOUR_PRICE, usd

#: ``deploy``'s flags, the command's and ``%glue_job deploy``'s alike: (names, argparse keywords).
DEPLOY_FLAGS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--name",), {"required": True, "help": "the job's name"}),
    (("--role",), {"help": "IAM role ARN the job runs as (else the notebook's)"}),
    (
        ("--script-location",),
        {
            "dest": "script_location",
            "help": "s3:// path of the script (default s3://aws-glue-assets-ACCOUNT-REGION/"
            "scripts/NAME.py)",
        },
    ),
    (("--run",), {"action": "store_true", "help": "start a run and follow it to its end"}),
    (
        ("--arg",),
        {"action": "append", "default": [], "metavar": "KEY=VALUE", "help": "a run argument"},
    ),
    (("--dry-run",), {"dest": "dry_run", "action": "store_true", "help": "print, call nothing"}),
    (("--force",), {"action": "store_true", "help": "overwrite a job glue-magics did not make"}),
)


def add_parser(subparsers: Any) -> None:
    """Add the ``job`` subcommand to the ``glue-magics`` command."""
    summary = __doc__.partition("\n\n")[0]
    parser = subparsers.add_parser(
        "job", help="deploy a notebook as a Glue job, run it and follow it", description=summary
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    deploy = verbs.add_parser("deploy", help="the notebook as a Glue job (create or update)")
    deploy.add_argument("notebook", help="the .ipynb file")
    for names, kwargs in DEPLOY_FLAGS:
        deploy.add_argument(*names, **kwargs)
    runs = verbs.add_parser("runs", help="a job's runs, newest first")
    runs.add_argument("name", help="the job's name")
    for sub in (deploy, runs):
        sub.add_argument("--region", help="AWS region (else the profile's or AWS_REGION)")
        sub.add_argument("--profile", help="AWS profile")
        sub.add_argument("--endpoint-url", dest="endpoint_url", help="Glue endpoint URL")
        sub.add_argument("--price", type=float, default=DPU_HOUR_PRICE, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from glue_magics.jobs.script import NotebookError
    from glue_magics.service import GlueError

    try:
        if args.verb == "deploy":
            return _deploy(args)
        return _runs(args)
    except NotebookError as exc:
        print(f"glue-magics job: {exc}", file=sys.stderr)
        return 2
    except GlueError as exc:
        print(f"glue-magics job: {exc}", file=sys.stderr)
        return 1


def _account(sts: Any, endpoint_url: str | None) -> str:
    """The caller's account (STS), for the default script location; a loopback endpoint
    that serves no STS is taken to have the local endpoint's own default account."""
    from glue_magics.jobs.script import NotebookError
    from glue_magics.service import is_loopback

    try:
        return sts.get_caller_identity()["Account"]
    except Exception as exc:  # noqa: BLE001 - any failure here has one fix, said below
        if endpoint_url and is_loopback(endpoint_url):
            from glue_magics.local.settings import EndpointSettings

            return EndpointSettings.account_id
        raise NotebookError(
            f"the account for the default script location is not known ({type(exc).__name__}); "
            "give --script-location s3://BUCKET/KEY.py"
        ) from None


@dataclass
class Deploy:
    """One ``job deploy``: what the command line or ``%glue_job deploy`` asked for."""

    notebook: str
    name: str
    role: str | None = None
    script_location: str | None = None
    run: bool = False
    args: Sequence[str] = ()
    dry_run: bool = False
    force: bool = False
    price: float = DPU_HOUR_PRICE


def deploy_flow(
    asked: Deploy,
    glue: Callable[[], Any],
    s3: Callable[[], Any],
    account: Callable[[], str],
    below: Sequence[tuple[str, Mapping[str, Any]]],
) -> int:
    """Read, plan, deploy and (with ``run``) follow, printing what happens; the exit
    status: 0, or 1 for a run that did not succeed.  Bad input raises NotebookError
    before any call; clients are made only when needed (a dry run makes none)."""
    from glue_magics.jobs import deploy, script

    notebook = script.read(asked.notebook)
    arguments = deploy.run_arguments(asked.args)
    overrides = {"role": asked.role} if asked.role else {}
    location = asked.script_location
    if location is None:
        location = deploy.default_script_location(account(), glue().meta.region_name, asked.name)
    planned = deploy.plan(
        notebook, asked.name, location, overrides, notebook=asked.notebook, below=below
    )
    left = ", ".join(f"{k} ({v})" for k, v in planned.left_out.items())
    if asked.dry_run:
        print(planned.script)
        rate = usd(planned.dpus * asked.price)
        print(f"# CreateJob request ({planned.dpus:g} DPU, ~{rate}/h):")
        print(planned.summary())
        if left:
            print(f"# left out, a session's only: {left}")
        return 0
    done = deploy.deploy(glue(), s3(), planned, force=asked.force)
    changed = f": {', '.join(done.changed)}" if done.changed else ""
    print(f"Job {done.name} {done.action}{changed} (script {location}, {notebook.cells} cells)")
    if left:
        print(f"Left out, a session's only: {left}")
    if not asked.run:
        return 0
    run_id = deploy.start(glue(), done.name, arguments)
    print(f"Run {run_id} of {done.name} started")
    return _follow(glue(), done.name, run_id, planned.dpus, asked.price)


def _deploy(args: argparse.Namespace) -> int:
    from glue_magics.sessions_cli import client_for

    made: dict[str, Any] = {}

    def client(service: str) -> Callable[[], Any]:
        return lambda: made.get(service) or made.setdefault(service, client_for(args, service))

    asked = Deploy(
        args.notebook, args.name, args.role, args.script_location, args.run, args.arg,
        args.dry_run, args.force, args.price,
    )  # fmt: skip
    account = lambda: _account(client("sts")(), args.endpoint_url)  # noqa: E731
    return deploy_flow(asked, client("glue"), client("s3"), account, _below(args))


def _below(args: argparse.Namespace) -> list[tuple[str, dict[str, Any]]]:
    """The sources under the notebook, as a session has them: environment, then profile."""
    import os

    from glue_magics import options

    profile = args.profile or os.environ.get("AWS_PROFILE")
    return [("env", options.from_env(os.environ)), ("profile", options.from_profile(profile))]


def _line(run: dict[str, Any], dpus: float, price: float) -> str:
    seconds = run.get("ExecutionTime") or 0
    dpu_seconds = run.get("DPUSeconds", seconds * dpus)
    return (
        f"{run['JobRunState']:<10} {seconds:>5} s  {dpu_seconds:g} DPU-seconds  "
        f"~{usd(dpu_seconds / 3600 * price)}"
    )


def _follow(glue: Any, name: str, run_id: str, dpus: float, price: float) -> int:
    from glue_magics.jobs import deploy

    seen: list[str] = []

    def show(run: dict[str, Any]) -> None:
        if not seen or seen[-1] != run["JobRunState"]:
            print(_line(run, dpus, price), flush=True)
        seen.append(run["JobRunState"])

    try:
        last = deploy.follow(glue, name, run_id, show)
    except KeyboardInterrupt:
        if _ask(f"Stop run {run_id}? [y/N] "):
            deploy.stop(glue, name, run_id)
            print(f"Stopping run {run_id}")
        else:
            print(f"Run {run_id} goes on; see it with: glue-magics job runs {name}")
        return 130
    print(_line(last, dpus, price))
    if last.get("ErrorMessage"):
        print(f"{last['JobRunState']}: {last['ErrorMessage']}")
    return 0 if last["JobRunState"] == "SUCCEEDED" else 1


def _ask(question: str) -> bool:
    try:
        return input(question).strip().lower() in ("y", "yes")
    except (EOFError, KeyboardInterrupt):
        return False


def _runs(args: argparse.Namespace) -> int:
    from glue_magics.display import table_bundle
    from glue_magics.sessions_cli import client_for

    glue = client_for(args)
    runs = glue.get_job_runs(JobName=args.name)["JobRuns"]
    rows = [
        {
            "run": r["Id"],
            "state": r["JobRunState"],
            "started": r["StartedOn"].strftime("%Y-%m-%d %H:%M:%S"),
            "seconds": r.get("ExecutionTime", 0),
            "error": (r.get("ErrorMessage") or "")[:60],
        }
        for r in runs
    ]
    print(table_bundle(rows, title=f"{len(rows)} run(s) of {args.name}")["text/plain"])
    return 0


__all__ = ["Deploy", "add_parser", "deploy_flow", "run"]
