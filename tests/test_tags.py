"""The tags every session we create carries (glue_magics/tags.py): who and where, within the
service's limits (botocore's model: TagsMap at most 50 entries, TagKey 1-128 characters,
TagValue 0-256), never replacing a user's own tag, and shown by ``--dry-run``."""

from __future__ import annotations

import json
import re

import pytest
from helpers import ROLE
from hypothesis import given
from hypothesis import strategies as st
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from glue_magics import model, options, tags
from glue_magics.magics import GlueMagics
from glue_magics.sessions import SessionManager, Settings

TAGS_SHAPE = model.operation("CreateSession").input_shape.members["Tags"]
MOST = TAGS_SHAPE.metadata["max"]
#: AWS's tagging docs, "Tag naming limits and requirements": the characters a value may hold.
ALLOWED = re.compile(r"[\w .:/=+\-@]*")


def test_the_models_limits_are_what_the_docs_say():
    assert MOST == 50
    assert TAGS_SHAPE.key.metadata["max"] == 128 and TAGS_SHAPE.value.metadata["max"] == 256
    assert all(len(key) <= 128 for key in tags.ORDER)


@given(st.text(max_size=600))
def test_a_cleaned_value_is_one_the_service_takes(value):
    cleaned = tags.clean(value)
    assert len(cleaned) <= 256 and ALLOWED.fullmatch(cleaned)
    assert not cleaned.lower().startswith("aws:")  # reserved (Glue's tagging API docs)
    assert tags.clean(cleaned) == cleaned  # the filter finds what the tag holds


def test_a_value_never_starts_with_the_reserved_prefix():
    assert tags.clean("AWS:x") == "_AWS:x" and tags.clean("aws-box") == "aws-box"
    assert tags.clean("aws:" + "a" * 252) == "_aws:" + "a" * 251  # still 256 at most


def test_a_long_path_keeps_its_file_name():
    path = "/home/ana/" + "deep/" * 80 + "report (v2).ipynb"
    assert tags.clean(path).endswith("deep/report _v2_.ipynb") and len(tags.clean(path)) == 256


def test_where_we_are_comes_from_the_frontend():
    environ = {"JPY_SESSION_NAME": "/srv/nb/a.ipynb", "JUPYTERHUB_USER": "ana"}
    argv = ["ipykernel_launcher", "-f", "/run/jupyter/kernel-1a2b-3c.json"]
    found = tags.session_tags(environ, argv, user_ns={})
    assert found[tags.CREATOR_KEY] == "glue-magics" and found[tags.USER_KEY] == "ana"
    assert found[tags.NOTEBOOK_KEY] == "/srv/nb/a.ipynb" and found[tags.KERNEL_KEY] == "1a2b-3c"
    assert found[tags.HOST_KEY] == tags.host()
    # ipykernel's __session__ and VS Code's __vsc_ipynb_file__, VS Code's first
    both = {"__session__": "b.ipynb", "__vsc_ipynb_file__": "/c/d.ipynb"}
    assert tags.notebook({}, both) == "/c/d.ipynb"
    assert tags.notebook({}, {"__session__": "b"}) == "b"
    bare = tags.session_tags({}, ["python"], user_ns={})
    assert tags.NOTEBOOK_KEY not in bare and tags.KERNEL_KEY not in bare
    assert tags.this_notebook({}, {}) is None
    assert tags.this_notebook({"JUPYTERHUB_USER": "ana"}, {"__session__": "b"}) == {
        **tags.mine({"JUPYTERHUB_USER": "ana"}),
        tags.NOTEBOOK_KEY: "b",
    }


ours = tags.session_tags({"JPY_SESSION_NAME": "n.ipynb"}, ["-f", "kernel-k1.json"], {})


@given(
    st.dictionaries(
        st.one_of(st.sampled_from(tags.ORDER), st.text(min_size=1, max_size=20)),
        st.text(max_size=20),
        max_size=MOST,
    )
)
def test_ours_fill_only_the_room_the_users_leave(theirs):
    fitted = tags.fit(theirs, ours, TAGS_SHAPE)
    assert len(fitted) <= MOST
    assert {k: fitted[k] for k in theirs} == theirs  # theirs kept, never replaced
    added = [key for key in fitted if key not in theirs]
    # ours, most wanted first: the ones dropped are the last of ORDER
    assert added == [key for key in tags.ORDER if key in ours and key not in theirs][: len(added)]
    assert len(added) == min(MOST - len(theirs), len([k for k in ours if k not in theirs]))


def test_the_request_carries_them_and_users_tags_win():
    opts = options.SessionOptions.resolve(
        [("line", {"role": ROLE, "tags": {"team": "a", tags.USER_KEY: "someone"}})],
        auto_tags=ours,
    )
    sent = opts.request()["Tags"]
    assert sent["team"] == "a" and sent[tags.USER_KEY] == "someone"
    assert sent[tags.CREATOR_KEY] == "glue-magics" and sent[tags.KERNEL_KEY] == "k1"
    full = options.SessionOptions.resolve(
        [("line", {"role": ROLE, "tags": {f"k{i}": "v" for i in range(MOST)}})], auto_tags=ours
    )
    assert full.request()["Tags"] == {f"k{i}": "v" for i in range(MOST)}


def test_tag_sessions_off_sends_only_the_users():
    manager = SessionManager(Settings(config_options={"role": ROLE}, tag_sessions=False))
    assert "Tags" not in manager.resolve().request()
    manager = SessionManager(Settings(config_options={"role": ROLE}))
    assert manager.resolve().request()["Tags"][tags.CREATOR_KEY] == "glue-magics"


def test_dry_run_shows_them(monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "/srv/nb/dry run.ipynb")
    ip = InteractiveShell.instance()
    ip.config.pop("GlueMagics", None)
    magics = GlueMagics(shell=ip)
    ip.register_magics(magics)
    try:
        ip.run_cell(f'%config GlueMagics.role = "{ROLE}"')
        with capture_output() as cap:
            assert ip.run_cell("%glue_session --dry-run --tag team=data").success, cap.stderr
        request = json.loads(cap.stdout[: cap.stdout.rindex("}") + 1])
        assert request["Tags"]["team"] == "data"
        assert request["Tags"][tags.NOTEBOOK_KEY] == "/srv/nb/dry run.ipynb"
        assert request["Tags"][tags.CREATOR_KEY] == "glue-magics"
    finally:
        ip.configurables.remove(magics)
        ip.config.pop("GlueMagics", None)


@pytest.mark.parametrize("argv", [["-f", "/tmp/tmpabc.json"], [], ["--f=/x/kernel-.json"]])
def test_no_kernel_id_unless_the_connection_file_names_one(argv):
    assert tags.kernel_id(argv) is None
