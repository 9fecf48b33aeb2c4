"""The session_language option: every way to ask sends ``DefaultArguments
["--session-language"]`` (what AWS's Glue Spark kernel sends, aws-glue-sessions 1.0.9
glue_spark/GlueKernel.py ``_set_default_arguments``), and its limits are one line each,
before any call.

Sources: AWS docs "interactive-sessions-spark-connect" (Spark Connect sessions are for
PySpark clients only); Ray sessions run Python; streaming sessions take Scala (AWS's Glue
Spark kernel offers ``%streaming``, and Glue streaming jobs are written in Scala too).
"""

from __future__ import annotations

import json

import pytest
from botocore.validate import validate_parameters
from helpers import ROLE
from hypothesis import given, settings
from hypothesis import strategies as st

from glue_magics import specs
from glue_magics.local.scala import is_scala
from glue_magics.model import operation
from glue_magics.options import (
    OptionError,
    SessionOptions,
    from_env,
    parse_configure,
    parse_line_flags,
    session_language,
)

INPUT = operation("CreateSession").input_shape


def request_of(*layers: tuple[str, dict]) -> dict:
    opts = SessionOptions.resolve([*layers, ("x", {"role": ROLE})])
    return opts.request("s-1")


def test_every_way_to_ask_sends_the_session_language_argument():
    ways = [
        ("line", parse_line_flags({"session_language": "scala"})),  # --session-language scala
        ("configure", parse_configure('{"session_language": "scala"}')),
        ("configure", parse_configure('{"language": "Scala"}')),
        ("config", {"session_language": "scala"}),  # the trait: GlueMagics.session_language
        ("env", from_env({"GLUE_SESSION_LANGUAGE": "scala"})),
        ("configure", parse_configure('{"DefaultArguments": {"--session-language": "scala"}}')),
    ]
    for source, layer in ways:
        request = request_of((source, layer))
        assert request["DefaultArguments"]["--session-language"] == "scala", (source, layer)
        assert is_scala(request["DefaultArguments"])  # the endpoint reads it the same way
        assert session_language(request["DefaultArguments"]) == "scala"
        validate_parameters(request, INPUT)
    streaming = request_of(("line", {"session_type": "streaming", "session_language": "scala"}))
    assert streaming["Command"]["Name"] == "gluestreaming"
    assert streaming["DefaultArguments"]["--session-language"] == "scala"


def test_the_option_is_in_the_one_table():
    spec = next(s for s in specs.SPECS if s.name == "session_language")
    assert spec.arg == "--session-language"
    assert specs.configure_keys()["language"] == "session_language"
    assert "session_language" in specs.FLAGS


def test_python_is_the_default_and_sends_nothing():
    request = request_of(("line", {}))
    assert "--session-language" not in request.get("DefaultArguments", {})
    assert session_language(request.get("DefaultArguments")) == "python"
    python = request_of(("line", {"session_language": "Python"}))
    assert python["DefaultArguments"]["--session-language"] == "python"


def test_scala_where_glue_has_none_is_one_line_before_any_call():
    cases = (
        ({"session_type": "spark_connect"}, "session_type 'spark_connect'"),
        ({"session_type": "ray", "worker_type": "Z.2X"}, "session_type 'ray'"),
    )
    for extra, fragment in cases:
        with pytest.raises(OptionError, match=fragment) as info:
            request_of(("line", {"session_language": "scala", **extra}))
        message = str(info.value)
        assert "\n" not in message and "session_language 'scala'" in message
    # Spark Connect with Python is fine
    request = request_of(("line", {"session_type": "spark_connect", "session_language": "python"}))
    assert request["SessionType"] == "SPARK_CONNECT"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
def test_any_other_language_is_refused_in_one_line_naming_it(text):
    try:
        request = request_of(("configure", parse_configure(json.dumps({"language": text}))))
    except OptionError as exc:
        message = str(exc)
        assert "\n" not in message
        assert text.strip().lower() not in ("python", "scala") or not text.strip()
        assert "session_language" in message
        return
    sent = request.get("DefaultArguments", {}).get("--session-language")
    if text.strip():
        assert sent == text.strip().lower() and sent in ("python", "scala")
    else:
        assert sent is None  # an empty value sends nothing: python
