"""``Job``: ``init`` and ``commit`` as Glue scripts call them.

Job bookmarks are not kept by local sessions: a script that enables them runs, reads all
its input every time, and is told so in one line.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

BOOKMARKS_OFF = "local sessions keep no job bookmarks: every run reads all of its input"


class Job:
    """A Glue job's run state in a script (``Job(glueContext)``, ``init``, ``commit``)."""

    def __init__(self, glue_context: Any) -> None:
        self._glue_context = glue_context
        self._name: str | None = None
        self._committed = False

    def init(self, job_name: str, args: Mapping[str, Any] | None = None) -> None:
        self._name = job_name
        args = dict(args or {})
        option = args.get("job_bookmark_option", args.get("--job-bookmark-option", ""))
        if option == "job-bookmark-enable":
            print(BOOKMARKS_OFF, file=sys.stderr)

    def isInitialized(self) -> bool:  # noqa: N802 - AWS's name
        return self._name is not None

    def commit(self) -> None:
        """Ends the run; with no bookmarks there is no state to keep."""
        self._committed = True

    @property
    def name(self) -> str | None:
        return self._name
