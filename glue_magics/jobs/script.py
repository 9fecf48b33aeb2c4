"""A notebook read as a Glue job: its settings from its own magics, its cells as the script.

Settings go through the options machinery a session's do (``specs`` names the magics,
``options`` reads and checks their values), so a job is configured as the notebook's
session was: ``%glue_version``, ``%worker_type``, ``%number_of_workers``, ``%timeout``,
``%%configure`` and its DefaultArguments, ``%connections``, ``%security_config``,
``%%tags``, ``%glue_session``'s flags.  What only a session has (``%idle_timeout``) is
named and left out.

The script is the code the session ran, in order: in a notebook on a Glue kernel (ours or
AWS's), every plain cell; in any other, the ``%%glue`` cells.  Magics are removed,
``%%sql`` and ``%%glue_sql`` cells become ``spark.sql(...)``, ``%%local`` cells and cells
tagged ``skip-job`` are left out.  The names a session defines (``spark``, ``sc``) are
defined first, and the Job boilerplate (``getResolvedOptions`` with ``JOB_NAME``,
``Job.init``, ``Job.commit``) is added only where the notebook lacks it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glue_magics import options, specs
from glue_magics.options import OptionError

#: A notebook's kernels whose plain cells run in the Glue session: ours and AWS's.
GLUE_KERNELS = frozenset({"glue_magics", "glue_pyspark", "glue_python", "glue_magics_scala"})
#: The tag that keeps a cell out of the job.
SKIP_TAG = "skip-job"
#: Options a session has and a job does not (``CreateJob`` has no member for them).
SESSION_ONLY = ("idle_timeout", "id", "id_prefix", "request_origin")
_SQL_MAGICS = ("sql", "glue_sql")
_CODE_MAGICS = ("glue",)

_HEADER = """import sys

from awsglue.context import GlueContext
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

args = getResolvedOptions(sys.argv, ["JOB_NAME"])
sc = SparkContext.getOrCreate()
glueContext = GlueContext(sc)
spark = glueContext.spark_session
"""
_JOB_INIT = 'job = Job(glueContext)\njob.init(args["JOB_NAME"], args)\n'
_JOB_COMMIT = "job.commit()\n"


class NotebookError(ValueError):
    """A notebook that cannot be read as a job (one line: what, where, what to do)."""


@dataclass
class NotebookJob:
    """What a notebook says of its job: the option values its magics set, the script,
    and the settings left out (a session's only)."""

    values: dict[str, Any] = field(default_factory=dict)
    script: str = ""
    left_out: dict[str, Any] = field(default_factory=dict)
    cells: int = 0  # code cells that went into the script


def _line_magic(line: str) -> tuple[str, str] | None:
    match = re.match(r"\s*%(?!%)(\w+)\s*(.*)$", line)
    return (match.group(1), match.group(2).strip()) if match else None


def _setting(name: str, rest: str, values: dict[str, Any], where: str) -> bool:
    """Apply one line magic that sets an option (AWS's option magics, ``%glue_session``'s
    flags); False when it sets none (an action magic such as ``%status``)."""
    from glue_magics.arguments import line_value

    known = specs.aws_magics()
    try:
        if name in known:
            option, fixed = known[name]
            values[option] = options.coerce(
                option, fixed if fixed is not None else line_value(rest)
            )
            return True
        if name == "glue_session":  # its flags, read by the magic's own parser
            from IPython.core.error import UsageError

            from glue_magics import arguments
            from glue_magics.magics import GlueMagics

            try:
                parsed = vars(arguments.parse(GlueMagics.glue_session, rest))
            except UsageError as exc:
                raise NotebookError(f"{where}: %glue_session {rest}: {exc}") from None
            flags = {k: v for k, v in parsed.items() if k in specs.FLAGS and v is not None}
            _merge(values, options.parse_line_flags(flags))
            return True
    except (OptionError, ValueError) as exc:
        raise NotebookError(f"{where}: %{name} {rest}: {exc}") from None
    return False


def _merge(values: dict[str, Any], more: Mapping[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value


def _sql(body: str) -> str:
    return f"spark.sql({body.strip()!r})\n"


def read_cells(cells: Iterable[Mapping[str, Any]], glue_kernel: bool) -> NotebookJob:
    """The job a notebook's code cells describe (see the module's docstring)."""
    job = NotebookJob()
    parts: list[str] = []
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        if SKIP_TAG in (cell.get("metadata") or {}).get("tags", ()):
            continue
        source = cell.get("source") or ""
        source = "".join(source) if isinstance(source, list) else source
        code = _cell_code(source, job.values, glue_kernel, f"cell {number}")
        if code.strip():
            parts.append(f"# cell {number}\n{code.rstrip()}\n")
            job.cells += 1
    for name in SESSION_ONLY:
        if name in job.values:
            job.left_out[name] = job.values.pop(name)
    job.script = assemble("\n".join(parts))
    return job


def _cell_code(source: str, values: dict[str, Any], glue_kernel: bool, where: str) -> str:
    """The session code of one cell, cut as the kernel cuts it (``routing.split_cell``,
    AWS's layout); the settings its magics give go into ``values``."""
    from glue_magics.routing import split_cell

    split = split_cell(source.splitlines(keepends=True))
    for line in split.head:
        parsed = _line_magic(line)
        if parsed is not None:
            _setting(*parsed, values, where)  # an action magic (%status) just goes
    name, body = split.magic, split.body
    if name is None:
        return _strip_magics(body) if glue_kernel else ""
    if name == "configure":
        try:
            _merge(values, options.parse_configure(body))
        except OptionError as exc:
            raise NotebookError(f"{where}: {exc}") from None
    elif name == "tags":
        try:
            _merge(values, {"tags": options.coerce("tags", body.strip())})
        except OptionError as exc:
            raise NotebookError(f"{where}: %%tags: {exc}") from None
    elif name in _SQL_MAGICS:
        return _sql(body)
    elif name in _CODE_MAGICS:
        return _strip_magics(body)
    return ""  # %%local and any other cell magic run here, not in the session


def _strip_magics(code: str) -> str:
    """Session code less the statement magics (``%matplot plt``, ``%table t``): a job has
    no one to show them to."""
    return "".join(
        line for line in code.splitlines(keepends=True) if not line.lstrip().startswith("%")
    )


def assemble(body: str) -> str:
    """The script: the names a session defines, the Job boilerplate where the notebook has
    none of its own, then the cells."""
    init = "" if re.search(r"\.init\(", body) else _JOB_INIT
    commit = "" if re.search(r"\.commit\(\)", body) else _JOB_COMMIT
    out = _HEADER + (f"{init}\n" if init else "\n") + body
    return out + (f"\n{commit}" if commit else "")


def read(path: str | Path) -> NotebookJob:
    """A notebook file read as a job; one-line :class:`NotebookError` when it cannot be."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotebookError(
            f"notebook {path} does not exist; give the .ipynb file's path"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(f"notebook {path} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"notebook {path} is not JSON ({exc.msg} at line {exc.lineno}); give a .ipynb file"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError(f"notebook {path} has no cells; give a Jupyter .ipynb file")
    kernel = ((data.get("metadata") or {}).get("kernelspec") or {}).get("name", "")
    return read_cells(data["cells"], kernel in GLUE_KERNELS)
