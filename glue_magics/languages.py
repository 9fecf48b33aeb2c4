"""Which language a session's statements are in, and the refusal of code in the other.

A Glue session's language is fixed when it is created (``DefaultArguments``'
``--session-language``: Python unless it says scala, as AWS's Glue Spark kernel sends it).
The manager records each session's, from its request or from GetSession once READY (a
reconnected one too); code of one language for a session of the other is refused in one
line before any call.  ``code`` is what plain code of this kernel is (the Scala kernel sets
it to scala).
"""

from __future__ import annotations

from typing import Any

from glue_magics.options import OptionError, session_language
from glue_magics.steps import Action, NextStep


def language_of(default_arguments: Any) -> str:
    """A session's language from its DefaultArguments (anything else: Python's)."""
    return session_language(default_arguments if isinstance(default_arguments, dict) else None)


class Languages:
    """Each session's language, for one session manager."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager
        self.code = "python"  # what plain code sent by this kernel is (kernel_scala: scala)
        self.of: dict[str, str] = {}  # session -> its statements' language

    def record(self, session_id: str | None, default_arguments: Any) -> None:
        if session_id:
            self.of[session_id] = language_of(default_arguments)

    def current(self) -> str:
        """The language of the session code would run in: the current session's, else the
        next one's (its pending options)."""
        manager = self.manager
        if manager.session_id is not None:
            return self.of.get(manager.session_id, "python")
        try:
            value = manager.resolve(manager.line, partial=True).values.get("session_language")
        except OptionError:
            return self.code  # the create that follows says what is wrong
        return language_of({"--session-language": value} if value else None)

    def check(self, language: str | None = None) -> None:
        """One line, before any call, when code of one language would go to a session of
        another: a Glue session's language is fixed when it is created."""
        from glue_magics.service import GlueError

        code = language or self.code
        session = self.current()
        if code == session:
            return
        session_id = self.manager.session_id
        which = f"session {session_id}" if session_id else "the next session"
        if session == "scala":
            fix = "run it in the glue_magics_scala kernel (Glue Spark), or use a Python session"
        else:
            fix = "use a Scala session"
        fix += f" (session_language {code})"
        steps = (NextStep(Action.REPLACE),) if session_id else ()
        raise GlueError(
            f"this is {code.capitalize()} code and {which} is a {session.capitalize()} "
            f"session; {fix}",
            "WrongLanguage",
            next_steps=steps,
        )
