"""The one table of Glue versions: what each runs (Spark, Python, Scala) and when it ends.

Everything that depends on a Glue version reads it here: the client's refusal of a
version at end of life (``options``' rules and the local endpoint's check, before any
call), the Spark Connect client advice (``connect``: the exact ``pip install`` line for
the session's Spark), and the local endpoint's notice of what it really runs.

Sources (AWS documentation, as read on 2026-12-07):

- "AWS Glue versions" (release notes, docs.aws.amazon.com/glue/latest/dg/release-notes.html):
  the Spark, Python and Scala of each version.
- "Migrating AWS Glue for Spark jobs to AWS Glue version 6.0" (migrating-version-60.html):
  Spark 3.5.6 in 5.1 -> 4.1.1 in 6.0, Scala 2.12.18 -> 2.13.17, Python 3.11 -> 3.13.
- "Migrating AWS Glue for Spark jobs to AWS Glue version 6.1" (migrating-version-61.html):
  Spark 4.1.3, Python 3.14, Scala 2.13.17; "Graviton (arm64) workers are the default"
  (a Spark job created without a WorkerType runs on G.1X.GRAVITON).
- "AWS Glue version support policy" (glue-version-support-policy.html): Glue 0.9, 1.0 and
  2.0 reached end of life on 2026-04-01; at end of life "you can no longer create new AWS
  Glue jobs or interactive sessions" on that version, and it is removed from the API.
- "Automatic version upgrades for AWS Glue jobs" (auto-version-upgrades.html): GlueVersion
  ``auto`` is a *job* setting (the service watches the job's runs, asks for approval, then
  moves it); botocore's model lets ``auto`` through CreateSession's pattern, but no AWS page
  offers it for sessions, and a session has no runs to watch, so we refuse it there.

Standard library only: ``%load_ext`` may import this module.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

__all__ = [
    "AUTO",
    "VERSIONS",
    "GlueVersion",
    "find",
    "pip_install_line",
    "refusal",
    "runtime_notice",
]


class GlueVersion(NamedTuple):
    """One Glue version: the runtime it gives a Spark session, and its end of life."""

    version: str
    spark: str
    python: str
    scala: str
    end_of_life: str | None = None  # ISO date: no new sessions or jobs from this day on
    default_worker: str = "G.1X"  # the worker type of a job that names none


# fmt: off
VERSIONS: tuple[GlueVersion, ...] = (
    GlueVersion("0.9", "2.2.1", "2.7", "2.11", end_of_life="2026-04-01"),
    GlueVersion("1.0", "2.4.3", "3.6", "2.11", end_of_life="2026-04-01"),
    GlueVersion("2.0", "2.4.3", "3.7", "2.11", end_of_life="2026-04-01"),
    GlueVersion("3.0", "3.1.1", "3.7", "2.12"),
    GlueVersion("4.0", "3.3.0", "3.10", "2.12"),
    GlueVersion("5.0", "3.5.4", "3.11", "2.12.18"),
    GlueVersion("5.1", "3.5.6", "3.11", "2.12.18"),
    GlueVersion("6.0", "4.1.1", "3.13", "2.13.17"),
    GlueVersion("6.1", "4.1.3", "3.14", "2.13.17", default_worker="G.1X.GRAVITON"),
)
# fmt: on

#: The GlueVersion word the model accepts and jobs use; sessions are refused it (see above).
AUTO = "auto"
POLICY = "AWS Glue version support policy"

_BY_VERSION = {v.version: v for v in VERSIONS}


def find(version: str | None) -> GlueVersion | None:
    """The row of ``version`` ("5.0"), or None for one the table does not know."""
    return _BY_VERSION.get(str(version).strip()) if version is not None else None


def current(today: datetime.date | None = None) -> list[GlueVersion]:
    """The versions a new session may have today, oldest first."""
    return [v for v in VERSIONS if not _ended(v, today)]


def _ended(row: GlueVersion, today: datetime.date | None) -> bool:
    if row.end_of_life is None:
        return False
    return (today or datetime.date.today()) >= datetime.date.fromisoformat(row.end_of_life)


def refusal(
    version: str | None,
    today: datetime.date | None = None,
    name: str = "glue_version",
    session: bool = True,
) -> str | None:
    """One line when nothing can be created on ``version`` today, else None.

    End of life (the support policy: no new jobs or sessions), and for a ``session``
    ``auto``, which only jobs take.  ``name``: the option's name as the speaker knows it
    (the local endpoint says ``GlueVersion``).
    """
    if version is None:
        return None
    text = str(version).strip()
    if text == AUTO and session:
        return (
            f"{name} {text!r} is for jobs (automatic version upgrades), not sessions; "
            f"give a version, e.g. {current(today)[-1].version}"
        )
    row = find(text)
    if row is not None and _ended(row, today):
        return (
            f"{name} {text!r} reached end of life on {row.end_of_life} ({POLICY}): "
            f"no new sessions or jobs on it; use {', '.join(v.version for v in current(today))}"
        )
    return None


def _numbers(text: str) -> str:
    """ "3.5.6-amzn-0" -> "3.5.6": the release a pip requirement can pin."""
    out = []
    for part in text.split("."):
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        out.append(digits)
        if digits != part:
            break
    return ".".join(out)


def pip_install_line(glue_version: str | None, server_spark: str | None = None) -> str:
    """The ``pip install`` of the Spark Connect client that matches a session's Spark.

    The session's Glue version names its Spark (the table); without a known version, the
    release the server reports (``spark.version``, any vendor suffix dropped).
    """
    row = find(glue_version)
    spark = row.spark if row is not None else _numbers(server_spark or "")
    return f'pip install "pyspark[connect]=={spark}"' if spark else 'pip install "pyspark[connect]"'


def runtime_notice(glue_version: str | None, spark: str, python: str) -> str | None:
    """One line when a runtime (the local endpoint's) is not what ``glue_version`` gives on
    AWS: which Spark and Python it really runs.  None when they agree (major.minor) or the
    version is not in the table."""
    row = find(glue_version)
    if row is None:
        return None

    def major_minor(text: str) -> str:
        return ".".join(_numbers(text).split(".")[:2])

    if major_minor(spark) == major_minor(row.spark) and major_minor(python) == row.python:
        return None
    return (
        f"Glue {row.version} runs Spark {row.spark} and Python {row.python} on AWS; the local "
        f"endpoint runs Spark {spark} and Python {python}"
    )
