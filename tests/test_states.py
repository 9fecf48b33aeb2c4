"""The session and statement states, named once (glue_magics/states.py), against the model."""

from __future__ import annotations

from glue_magics import model, states


def _enum(shape: str) -> set[str]:
    return set(model.service_model().shape_for(shape).enum)


def test_states_are_the_models_enums():
    assert set(states.SESSION_STATES) == _enum("SessionStatus")
    assert set(states.STATEMENT_STATES) == _enum("StatementState")


def test_stopping_is_dead_but_not_stopped():
    assert "STOPPING" in states.DEAD_STATES
    assert "STOPPING" not in states.STOPPED_STATES
    assert states.STOPPED_STATES < states.DEAD_STATES
    assert not states.DEAD_STATES & states.LIVE_STATES
    assert states.DEAD_STATES | states.LIVE_STATES | {"PROVISIONING"} == set(states.SESSION_STATES)


def test_statement_sets_are_statement_states():
    assert states.STATEMENT_SUCCESS < states.STATEMENT_DONE <= set(states.STATEMENT_STATES)
    assert not states.STATEMENT_DONE & {"WAITING", "RUNNING", "CANCELLING"}


def test_the_endpoint_does_not_import_the_client_lifecycle():
    import glue_magics.local.models as models

    assert models.STOPPED_STATES is states.STOPPED_STATES
    assert "glue_magics.lifecycle" not in open(models.__file__).read()
