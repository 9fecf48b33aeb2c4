"""Next steps as data: what to do after an error, named without any magic below the display.

The layers below the display say *what* to do (``steps.NextStep``); ``str()`` of an error
reads as a neutral sentence (a CLI, a log), and only ``display`` names the magics.
"""

from __future__ import annotations

import ast
import pathlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

import glue_magics
from glue_magics.service import GlueError
from glue_magics.steps import Action, NextStep, steps_for, with_steps

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,40}", fullmatch=True)


@given(st.sampled_from(list(Action)), st.one_of(st.none(), ids))
def test_every_step_has_a_neutral_phrase_naming_its_session(action, session_id):
    step = NextStep(action, session_id)
    text = str(step)
    assert text and "\n" not in text and "%" not in text
    if action.takes_id and session_id:
        assert step.session_id == session_id and session_id in text
    else:
        assert step.session_id is None  # only steps about one session keep an id


def test_steps_compare_as_data():
    assert NextStep("create") == NextStep(Action.CREATE, "ignored")
    assert steps_for((Action.WAIT, Action.CREATE), "s1") == (
        NextStep(Action.WAIT, "s1"),
        NextStep(Action.CREATE),
    )
    with pytest.raises(ValueError):
        NextStep("teleport")


def test_steps_follow_a_semicolon_or_make_a_sentence():
    stop = NextStep(Action.STOP, "s1")
    assert with_steps("session s1 is READY", []) == "session s1 is READY"
    assert with_steps("session s1 is READY", [stop]) == "session s1 is READY; stop session s1"
    assert with_steps("Created s1.", [stop]) == "Created s1. Stop session s1."
    assert with_steps("lost", [NextStep(Action.WAIT, "s1"), stop]) == (
        "lost; wait for session s1 by reconnecting to it or stop session s1"
    )
    assert with_steps("", [stop], lambda step: "x") == "x"


def test_an_error_reads_as_a_sentence_without_the_display():
    error = GlueError(
        "session s1 is TIMEOUT\nfor good",
        "SessionNotReady",
        next_steps=steps_for((Action.CREATE, Action.AUTO_RESTART)),
    )
    assert error.message == "session s1 is TIMEOUT; for good"
    assert (
        str(error) == "session s1 is TIMEOUT; for good; start a new session or turn on auto_restart"
    )
    assert str(GlueError("plain")) == "plain" and GlueError("plain").next_steps == ()


# Modules below the display: no magic's name in any string they build (docstrings and
# comments may name magics).  options.py's %%configure messages are about the user's input.
BELOW_DISPLAY = ["service", "lifecycle", "sessions", "results", "cost", "steps", "states"]
BELOW_DISPLAY += ["budget", "inventory", "tags"]
BELOW_DISPLAY += ["reporting", "clients", "settings", "starting"]  # once in sessions.py


@pytest.mark.parametrize("module", BELOW_DISPLAY)
def test_no_magic_names_below_the_display(module):
    path = pathlib.Path(glue_magics.__file__).parent / f"{module}.py"
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]
    assert not [s for s in strings if "%glue" in s or "%%" in s or "%config" in s]
