"""The Glue model we load: botocore's, plus our sdk-extras, without touching AWS_DATA_PATH."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from glue_magics import model


def test_extras_add_rich_output_fields_to_botocores_model():
    members = model.service_model().shape_for("StatementOutputData").members
    assert {"TextPlain", "MimeType", "Result", "StdOut", "StdErr"} <= set(members)
    assert "AWS_DATA_PATH" not in os.environ  # our loader, not the process-wide path
    # and the rest is botocore's own model, not a copy
    assert model.operation("CreateSession").input_shape.required_members == [
        "Id",
        "Role",
        "Command",
    ]


def test_a_client_from_our_session_parses_the_extra_fields():
    client = model.botocore_session().create_client(
        "glue",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    assert "MimeType" in client.meta.service_model.shape_for("StatementOutputData").members


@given(st.integers(1, 999))
def test_dpu_per_worker_reads_the_size_from_the_name(size):
    assert model.dpu_per_worker(f"G.{size}X") == size
    assert model.dpu_per_worker(f"R.{size}X") == size


def test_dpu_per_worker_known_types_and_anything_else():
    assert model.dpu_per_worker("G.025X") == 0.25
    assert model.dpu_per_worker("Z.2X") == 2
    assert model.dpu_per_worker("Standard") == 1
    assert model.dpu_per_worker("G.0X") == model.dpu_per_worker("G.00X") == 1


@given(st.text(max_size=12))
def test_dpu_per_worker_never_fails_on_any_name(name):
    assert model.dpu_per_worker(name) > 0
