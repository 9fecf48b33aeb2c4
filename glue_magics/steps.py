"""What a user can do next after an error or a notice, as data.

The layers below the display (service, lifecycle, sessions, results) say *what* to do
(:class:`NextStep`: an :class:`Action`, and the session it is about); only
``display.advice`` turns a step into words that name a magic (``%glue_reconnect abc``).
``str(step)`` is a neutral phrase, so an error read without the display (a CLI, a log)
still ends in a sentence.  Only the standard library is imported here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass


class Action(enum.Enum):
    """One thing a user can do next, with its neutral phrase (and the phrase for a step
    about one session, ``{id}``, for the actions that take one); the display words each
    with the magic that does it."""

    def __new__(cls, value: str, neutral: str, about_one: str = "") -> Action:
        member = object.__new__(cls)
        member._value_ = value
        member.neutral = neutral
        member.about_one = about_one
        return member

    CREATE = "create", "start a new session"
    RENAME = "rename", "choose a new session id"
    RECONNECT = (
        "reconnect",
        "give the id of the session to reconnect to",
        "reconnect to session {id}",
    )
    WAIT = "wait", "wait for the session", "wait for session {id} by reconnecting to it"
    STOP = "stop", "give an id of the session to stop", "stop session {id}"
    STATUS = "status", "check the session's status"
    LIST = "list", "list the sessions"
    RERUN = "rerun", "check the session, then run the code again"
    QUOTA = "quota", "stop unused sessions or ask AWS for a quota increase"
    OPTIONS = "options", "check the options, then create the session again"
    AUTO_RESTART = "auto_restart", "turn on auto_restart"
    REPLACE = "replace", "stop it and create a new one"
    RECONFIGURE = "reconfigure", "stop it and create a new one with these options"
    BUDGET = "budget", "raise the budget (budget_usd, or GLUE_BUDGET_USD)"
    SPARK_UI = "spark_ui", "open it from the session's status in a notebook"

    @property
    def takes_id(self) -> bool:
        """Whether a step of this action is about one session, named by its id."""
        return bool(self.about_one)


@dataclass(frozen=True)
class NextStep:
    """One thing to do next: ``NextStep(Action.WAIT, "abc")``.

    ``session_id`` is kept only for the actions about one session (:attr:`Action.takes_id`),
    so a step made for a session-less action compares equal however it was made.
    """

    action: Action
    session_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.action, Action):
            object.__setattr__(self, "action", Action(self.action))
        if not self.action.takes_id or not self.session_id:
            object.__setattr__(self, "session_id", None)

    def __str__(self) -> str:
        if self.session_id:
            return self.action.about_one.format(id=self.session_id)
        return self.action.neutral


def steps_for(actions: Iterable[Action], session_id: str | None = None) -> tuple[NextStep, ...]:
    """The steps of ``actions``, those about one session naming ``session_id``."""
    return tuple(NextStep(action, session_id) for action in actions)


def with_steps(
    message: str,
    steps: Iterable[NextStep],
    phrase: Callable[[NextStep], str] = str,
) -> str:
    """``message``, then the steps (alternatives: "A or B"), each worded by ``phrase``.

    After a full stop they are a sentence of their own (``"Done. Stop it with ...."``),
    else they follow a semicolon (``"session x is TIMEOUT; start a new session"``).
    """
    todo = " or ".join(phrase(step) for step in steps)
    text = message.rstrip()
    if not todo:
        return text
    if not text:
        return todo
    if text.endswith("."):
        return f"{text} {todo[:1].upper()}{todo[1:]}."
    return f"{text}; {todo}"
