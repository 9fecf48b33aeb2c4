"""Spark Connect sessions' options: every way to ask for one sends ``SessionType``
``SPARK_CONNECT`` with ``Command.Name`` ``glueetl``, and AWS's documented limits are checked
before any call.

Sources: botocore's Glue model (1.43.23 on: CreateSession.SessionType ``LIVY |
SPARK_CONNECT``); AWS docs "interactive-sessions-spark-connect" (Glue 5.1 and later, no
Lake Formation fine-grained access, the regions), shared with the local endpoint through
``glue_magics.session_types``.
"""

from __future__ import annotations

import json

import pytest
from botocore.validate import validate_parameters
from helpers import ROLE
from hypothesis import example, given, settings
from hypothesis import strategies as st

from glue_magics.local.exceptions import InvalidInput
from glue_magics.local.models import GLUE_VERSIONS, SessionRequest
from glue_magics.model import operation
from glue_magics.options import (
    OptionError,
    SessionOptions,
    coerce,
    from_env,
    parse_configure,
    parse_line_flags,
)
from glue_magics.session_types import (
    LAKE_FORMATION_FGAC,
    SPARK_CONNECT_MIN_VERSION,
    SPARK_CONNECT_REGIONS,
)

INPUT = operation("CreateSession").input_shape


def request_of(*layers: tuple[str, dict]) -> dict:
    opts = SessionOptions.resolve([*layers, ("x", {"role": ROLE})])
    return opts.request("s-1")


def test_every_way_to_ask_sends_session_type_spark_connect_with_glueetl():
    ways = [
        ("line", parse_line_flags({"session_type": "spark-connect"})),
        ("configure", parse_configure('{"session_type": "spark_connect"}')),
        ("configure", parse_configure('{"SessionType": "SPARK_CONNECT"}')),
        ("config", {"session_type": "spark_connect"}),  # the trait: GlueMagics.session_type
        ("env", from_env({"GLUE_SESSION_TYPE": "spark_connect"})),
        ("line", {"session_type": coerce("session_type", "spark_connect")}),  # %session_type
    ]
    for source, layer in ways:
        request = request_of((source, layer))
        assert request["SessionType"] == "SPARK_CONNECT", (source, layer)
        assert request["Command"] == {"Name": "glueetl"}
        assert request["GlueVersion"] == SPARK_CONNECT_MIN_VERSION  # the default follows
        validate_parameters(request, INPUT)  # botocore's own validator accepts it


def test_a_statement_session_sends_no_session_type():
    for text in ("etl", "streaming", "LIVY", "glueetl"):
        request = request_of(("line", {"session_type": text}))
        assert "SessionType" not in request, text


def test_the_documented_limits_are_one_line_each_before_any_call():
    cases = (
        ({"glue_version": "5.0"}, "needs glue_version 5.1 or later, not 5.0"),
        ({"glue_version": "4.0"}, "set glue_version 5.1"),
        ({"region": "eu-south-1"}, "not available in region 'eu-south-1'"),
        ({"default_arguments": {LAKE_FORMATION_FGAC: "TRUE"}}, "fine-grained access"),
        ({"worker_type": "Z.2X"}, "only for Ray sessions"),
    )
    for extra, fragment in cases:
        with pytest.raises(OptionError, match=fragment) as info:
            request_of(("line", {"session_type": "spark_connect", **extra}))
        assert "\n" not in str(info.value)
    # ray and streaming are other session types: one option, one value
    with pytest.raises(OptionError, match="choose one of etl, streaming, ray, spark_connect"):
        request_of(("line", {"session_type": "spark"}))
    # another endpoint (the local one) says for itself where it serves
    request = request_of(("line", {"session_type": "spark_connect", "region": "eu-south-1",
                                   "endpoint_url": "local"}))  # fmt: skip
    assert request["SessionType"] == "SPARK_CONNECT"


versions = st.sampled_from([*GLUE_VERSIONS[1:], "auto", None])  # those the endpoint knows
regions = st.sampled_from([None, *SPARK_CONNECT_REGIONS, "eu-south-1", "us-west-1"])
fgac = st.sampled_from([None, "true", "TRUE", " true ", "false", "yes"])
spellings = st.sampled_from(["spark_connect", "spark-connect", "SPARK_CONNECT", "Spark-Connect"])


@settings(max_examples=200, deadline=None)
@given(version=versions, region=regions, fgac=fgac, spelling=spellings)
@example(version="5.0", region=None, fgac=None, spelling="spark-connect")
def test_the_client_refuses_exactly_what_the_local_endpoint_refuses(
    version, region, fgac, spelling
):
    """The client's rules and the endpoint's (local/models.py) read the same facts: a
    request the client builds is one the endpoint settles, and the client refuses one
    the endpoint would refuse (the region aside: each endpoint says for itself)."""
    body = {"session_type": spelling, "region": region, "glue_version": version}
    if fgac is not None:
        body["default_arguments"] = json.dumps({LAKE_FORMATION_FGAC: fgac})
    try:
        request = request_of(("configure", parse_configure(json.dumps(body))))
    except OptionError as exc:
        message = str(exc)
        assert "\n" not in message and "spark_connect" in message
        endpoint_body = {"Id": "s", "Role": ROLE, "Command": {"Name": "glueetl"},
                         "SessionType": "SPARK_CONNECT"}  # fmt: skip
        if version is not None:
            endpoint_body["GlueVersion"] = version
        if fgac is not None:
            endpoint_body["DefaultArguments"] = {LAKE_FORMATION_FGAC: fgac.strip()}
        if region in SPARK_CONNECT_REGIONS or region is None:
            with pytest.raises(InvalidInput):
                SessionRequest.from_body(endpoint_body).settle()
        return
    assert request["SessionType"] == "SPARK_CONNECT"
    if version == "auto":  # jobs only: the session manager refuses it before CreateSession
        with pytest.raises(InvalidInput, match="for jobs"):
            SessionRequest.from_body(request).settle()
        return
    SessionRequest.from_body(request).settle()  # the endpoint accepts what the client sends
