"""The parsers of local awsglue (field paths, resolveChoice actions, S3 exclusion globs,
getResolvedOptions), and that ``awsglue`` is importable nowhere but in a local session.

``awsglue/_parsing.py`` is loaded from its file under a private name: ``awsglue`` itself
must stay off this process's path (a user's environment may hold AWS's real one).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import glue_magics.local

RUNTIME = Path(glue_magics.local.__file__).parent / "runtime"
_spec = importlib.util.spec_from_file_location(
    "_glue_magics_awsglue_parsing", RUNTIME / "awsglue" / "_parsing.py"
)
parsing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(parsing)

names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="`"), min_size=1)


def test_awsglue_is_not_importable_outside_a_session():
    """Never a top-level awsglue in the user's environment: only the session worker puts
    the runtime directory on its path (glue_magics/local/worker.py)."""
    assert importlib.util.find_spec("awsglue") is None
    assert str(RUNTIME) not in sys.path
    assert (RUNTIME / "awsglue" / "__init__.py").is_file()
    assert not (RUNTIME / "__init__.py").exists()  # not a package glue_magics ships as one


@given(st.lists(st.one_of(names, st.just("[]")), min_size=1).filter(lambda s: s[0] != "[]"))
def test_a_path_reads_back_as_written(segments):
    assert parsing.parse_path(parsing.format_path(segments)) == segments


def test_paths_as_aws_writes_them():
    # ResolveChoice class page: "myList[].price"; ApplyMapping class page: "`this.old.name`"
    assert parsing.parse_path("myList[].price") == ["myList", "[]", "price"]
    assert parsing.parse_path("`this.old.name`") == ["this.old.name"]
    assert parsing.parse_path("provider id") == ["provider id"]
    assert parsing.parse_path("a.`b.c`.d") == ["a", "b.c", "d"]


@pytest.mark.parametrize("bad", ["", "a..b", "a.", ".a", "`a", "a[", "a[x", "[].a"])
def test_a_bad_path_is_one_line(bad):
    with pytest.raises(parsing.GlueArgumentError) as caught:
        parsing.parse_path(bad)
    assert "\n" not in str(caught.value)


@given(st.sampled_from(["cast", "project"]), st.from_regex(r"[a-z]{1,8}", fullmatch=True))
def test_typed_actions_carry_their_type(kind, type_name):
    assert parsing.parse_action(f"{kind}:{type_name}") == (kind, type_name)


@given(st.text(max_size=20))
def test_any_action_text_is_parsed_or_refused_in_one_line(text):
    try:
        kind, arg = parsing.parse_action(text)
    except parsing.GlueArgumentError as exc:
        assert "\n" not in str(exc) and repr(text) in str(exc)
    else:
        assert kind in parsing.ACTIONS
        assert (arg is None) == (kind not in ("cast", "project"))


segment = st.from_regex(r"[a-z0-9_.-]{1,6}", fullmatch=True)


@given(st.lists(segment, min_size=1, max_size=4), st.sampled_from(["txt", "pdf", "json"]))
def test_a_double_star_glob_crosses_folders(folders, ext):
    # Connection types page: exclusions "[\"**.pdf\"]" excludes all PDF files
    path = "s3://bucket/" + "/".join(folders) + "." + ext
    assert re.fullmatch(parsing.glob_to_regex(f"**.{ext}"), path)
    assert not re.fullmatch(parsing.glob_to_regex("**.csv"), path)


@given(st.lists(segment, min_size=2, max_size=4))
def test_a_single_star_stays_in_its_folder(folders):
    path = "/".join(folders)
    assert not re.fullmatch(parsing.glob_to_regex("*"), path)
    assert re.fullmatch(parsing.glob_to_regex("*/" * (len(folders) - 1) + "*"), path)


@given(st.text(max_size=12))
def test_any_glob_compiles(glob):
    re.compile(parsing.glob_to_regex(glob))


def test_exclusions_are_a_json_list_of_globs():
    assert parsing.parse_exclusions('["**.pdf", "**/_tmp/*"]') == ["**.pdf", "**/_tmp/*"]
    assert parsing.parse_exclusions(None) == []
    for bad in ("**.pdf", '{"a": 1}', "[1]"):
        with pytest.raises(parsing.GlueArgumentError):
            parsing.parse_exclusions(bad)


option_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10).filter(
    lambda v: not v.startswith("--")
)


@given(st.dictionaries(option_names, values, min_size=1, max_size=4), st.booleans())
def test_resolved_options_are_the_values_given(given_options, with_equals):
    argv = ["script.py", "--other", "x"]
    for name, value in given_options.items():
        argv += [f"--{name}={value}"] if with_equals else [f"--{name}", value]
    assert parsing.resolve_options(argv, list(given_options)) == given_options


def test_a_missing_option_is_named_in_one_line():
    # AWS's getResolvedOptions page: the listed options are required
    with pytest.raises(parsing.GlueArgumentError) as caught:
        parsing.resolve_options(["script.py", "--day", "1"], ["JOB_NAME", "day"])
    assert "--JOB_NAME" in str(caught.value) and "\n" not in str(caught.value)


def test_dashed_option_names_come_back_with_underscores():
    argv = ["script.py", "--job-bookmark-option", "job-bookmark-enable"]
    assert parsing.resolve_options(argv, ["job-bookmark-option"]) == {
        "job_bookmark_option": "job-bookmark-enable"
    }
