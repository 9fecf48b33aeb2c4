"""``glue-magics sessions``: the sessions in a region and what they cost, and stopping them.

::

    glue-magics sessions [--mine] [--json] [--region R] [--profile P] [--endpoint-url URL]
    glue-magics sessions stop ID... | --idle-over 30m | --mine  [--yes]

The listing is :mod:`glue_magics.inventory`'s, as ``%glue_sessions`` shows it: every page of
ListSessions with status, age, idle time, DPU-seconds and cost; ``--mine`` keeps the sessions
glue-magics made for this user on this host (by their tags).  ``stop`` asks before it stops
anything unless ``--yes``.  A table by default, JSON with ``--json``.  Bad input is one line
with the fix and exit status 2; a failed call is one line and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from glue_magics.cost import DPU_HOUR_PRICE

#: Seconds ``stop`` waits, in all, for the sessions it stopped to be STOPPED.
STOP_WAIT = 30.0


def add_parser(subparsers: Any) -> None:
    """Add the ``sessions`` subcommand to the ``glue-magics`` command."""
    summary, _, usage = __doc__.partition("\n\n")  # the module's docstring is the help
    parser = subparsers.add_parser(
        "sessions",
        help="list the sessions in a region with their cost, or stop them",
        description=summary.strip("` ").replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="forms:\n" + usage.removeprefix("::\n\n").partition("\n\n")[0],
    )
    parser.add_argument(
        "words", nargs="*", metavar="stop ID", help="'stop', then the ids of sessions to stop"
    )
    parser.add_argument(
        "--mine",
        action="store_true",
        help="only sessions glue-magics created for this user on this host (by their tags)",
    )
    parser.add_argument("--json", action="store_true", help="JSON instead of a table")
    parser.add_argument(
        "--idle-over",
        dest="idle_over",
        type=_duration,
        metavar="DURATION",
        help="with stop: live sessions idle at least this long, e.g. 30m, 2h, 90s",
    )
    parser.add_argument("-y", "--yes", action="store_true", help="with stop: do not ask first")
    parser.add_argument("--region", help="AWS region (else the profile's or AWS_REGION)")
    parser.add_argument("--profile", help="AWS profile")
    parser.add_argument("--endpoint-url", dest="endpoint_url", help="Glue endpoint URL")
    parser.add_argument(
        "--price",
        type=float,
        default=DPU_HOUR_PRICE,
        metavar="USD",
        help="USD per DPU-hour for the cost column (default %(default)s)",
    )
    parser.set_defaults(func=run)


def _duration(text: str) -> float:
    from glue_magics.inventory import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    """List, or stop; a GlueError is one line on stderr and exit status 1."""
    from glue_magics.service import GlueError

    words = list(args.words)
    stopping = bool(words) and words[0] == "stop"
    problem = _misuse(args, words, stopping)
    if problem:
        return _usage(problem)
    try:
        client = client_for(args)
        if stopping:
            return _stop(client, args, words[1:])
        return _list(client, args)
    except GlueError as exc:
        print(f"glue-magics sessions: {exc}", file=sys.stderr)
        return 1


def _misuse(args: argparse.Namespace, words: list[str], stopping: bool) -> str:
    """What is wrong with the words and flags together, with the fix; "" when nothing."""
    ids, filters = words[1:], args.mine or args.idle_over is not None
    if words and words[0] not in ("stop", "list"):
        return f"{words[0]!r} is not a command; give 'stop ID...', or nothing to list"
    if words[:1] == ["list"] and words[1:]:
        return "list takes no session ids; to stop sessions give 'stop ID...'"
    if not stopping and (args.idle_over is not None or args.yes):
        return "--idle-over and --yes go with stop, e.g. glue-magics sessions stop --idle-over 30m"
    if stopping and ids and filters:
        return "give session ids or --mine/--idle-over, not both"
    if stopping and not ids and not filters:
        return "stop needs session ids, --idle-over DURATION or --mine"
    return ""


def _usage(message: str) -> int:
    print(f"glue-magics sessions: {message}", file=sys.stderr)
    return 2


def client_for(args: argparse.Namespace, service: str = "glue") -> Any:
    """A Glue (or S3, for ``job deploy``) client from the flags, over the environment and
    profile as the magics read them (``GLUE_REGION``, ``AWS_ENDPOINT_URL_GLUE``, a
    profile's ``glue_*`` keys...); S3 goes to the same endpoint when one is given."""
    import os

    from glue_magics import options
    from glue_magics.service import GlueError, make_client

    flags = {k: getattr(args, k) for k in ("region", "profile", "endpoint_url")}
    profile = flags["profile"] or os.environ.get("AWS_PROFILE")
    try:
        settings = options.client_settings(
            [
                ("line", {k: v for k, v in flags.items() if v}),
                ("env", options.from_env(os.environ)),
                ("profile", options.from_profile(profile)),
            ]
        )
    except options.OptionError as exc:
        raise GlueError(str(exc), "UsageError") from None
    if settings.get("endpoint_url") == "local":
        raise GlueError(
            "endpoint_url 'local' is the endpoint inside a kernel; give its URL, e.g. "
            "--endpoint-url http://127.0.0.1:4599",
            "UsageError",
        )
    if service != "glue" and settings.get("endpoint_url"):
        from glue_magics.service import is_loopback

        if not is_loopback(settings["endpoint_url"]):
            del settings["endpoint_url"]  # a Glue endpoint of AWS's serves Glue alone
    return make_client(service, **settings)


def _list(client: Any, args: argparse.Namespace) -> int:
    from glue_magics import inventory

    listed = inventory.listing(client, mine=args.mine, price=args.price)
    if args.json:
        print(json.dumps([item.to_json() for item in listed], indent=2))
        return 0
    whose = " of yours (by tag)" if args.mine else ""
    _table([item.row() for item in listed], f"{len(listed)} Glue session(s){whose}")
    return 0


def _table(rows: list[dict[str, Any]], title: str) -> None:
    from glue_magics.display import table_bundle

    print(table_bundle(rows, title=title)["text/plain"])


def _stop(client: Any, args: argparse.Namespace, ids: list[str]) -> int:
    """Stop the sessions given, or those the filters pick, after asking (unless --yes)."""
    from glue_magics import inventory

    if ids:
        chosen = list(dict.fromkeys(ids))
    else:
        listed = inventory.listing(client, mine=args.mine, price=args.price)
        picked = inventory.to_stop(listed, args.idle_over)
        chosen = [item.id for item in picked]
        if picked and not args.yes:
            _table([item.row() for item in picked], f"{len(picked)} session(s) to stop")
    if not chosen:
        _report(args, {}, "No session to stop.")
        return 0
    if not args.yes and not _confirm(f"Stop {len(chosen)} session(s): {', '.join(chosen)}?"):
        print("Nothing stopped.", file=sys.stderr)
        return 1
    outcome = stop_all(client, chosen)
    _report(args, outcome, "")
    return 1 if any(status.startswith("stop failed") for status in outcome.values()) else 0


def _confirm(question: str) -> bool:
    """Ask on the terminal; no answer (end of input) is no."""
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("y", "yes")


def stop_all(client: Any, ids: list[str], wait: float = STOP_WAIT) -> dict[str, str]:
    """StopSession for each, then a wait (``wait`` seconds in all) for STOPPED; the status
    of each, or ``stop failed: <why>`` (a failure does not stop the others)."""
    from glue_magics import lifecycle
    from glue_magics.service import GlueError

    outcome: dict[str, str] = {}
    for session_id in ids:
        try:
            outcome[session_id] = lifecycle.stop_session(client, session_id, wait=0)
        except GlueError as exc:
            outcome[session_id] = f"stop failed: {exc}"
    deadline = time.monotonic() + wait
    for session_id, status in outcome.items():
        if status == "STOPPING":
            left = max(0.0, deadline - time.monotonic())
            try:  # asked again: a session already stopping is waited for, not refused
                outcome[session_id] = lifecycle.stop_session(client, session_id, wait=left)
            except GlueError:
                pass  # it was stopping; what it is now we could not learn
    return outcome


def _report(args: argparse.Namespace, outcome: dict[str, str], nothing: str) -> None:
    if args.json:
        print(json.dumps([{"Id": sid, "Status": status} for sid, status in outcome.items()]))
    elif not outcome:
        print(nothing)
    else:
        for session_id, status in outcome.items():
            print(f"{session_id}: {status}")
