"""The one table of session options: every name a user types for an option comes from it.

The traits of ``GlueMagics``, the ``%glue_session`` flags and their help, the environment
and profile names, the ``%%configure`` keys and the option magics of AWS's Glue kernel are
generated from :data:`glue_magics.specs.SPECS`; adding an option is one row there (and its
rule in ``options``, if it has one).  In-process IPython and a scratch copy of the package;
``--dry-run`` only, so no call goes anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import ROLE
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic_arguments import magic_arguments
from IPython.utils.capture import capture_output

import glue_magics
from glue_magics import arguments, specs
from glue_magics.kernel import CompatMagics
from glue_magics.magics import GlueMagics
from glue_magics.model import operation
from glue_magics.specs import SPECS, OptionSpec, option_traits

INPUT = operation("CreateSession").input_shape


@pytest.fixture
def shell(monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    ip = InteractiveShell.instance()
    ip.config.pop("GlueMagics", None)  # %config persists in the shell's config: start clean
    magics = GlueMagics(shell=ip)
    ip.register_magics(magics)
    ip.register_magics(CompatMagics(ip, magics))
    yield ip
    ip.configurables.remove(magics)


def run(shell, cell: str) -> str:
    with capture_output() as cap:
        result = shell.run_cell(cell)
    assert result.success, cap.stdout + cap.stderr
    return cap.stdout


def flat(text: str) -> str:
    """Help text with its wrapping undone."""
    return " ".join(text.split())


# --------------------------------------------------------------------------- generated


def test_each_row_is_a_trait_listed_by_config(shell):
    traits = GlueMagics.class_traits(config=True)
    listing = run(shell, "%config GlueMagics")
    assert listing.startswith("GlueMagics(Magics) options")
    for spec in SPECS:
        assert traits[spec.name].help == spec.help
        assert getattr(shell.magics_manager.registry["GlueMagics"], spec.name) is None  # not set
        assert f"GlueMagics.{spec.name}=" in listing
    for setting in ("progress", "auto_restart", "stop_on_exit", "retry_mode", "max_attempts"):
        assert f"GlueMagics.{setting}=" in listing  # the behaviour traits are still there
    assert specs.OPTION_NAMES == tuple(s.name for s in SPECS)


def test_each_row_is_a_session_flag_and_only_the_magics_own_are_not():
    parser = GlueMagics.glue_session.parser
    dests = {a.dest: a for a in parser._actions}
    for spec in SPECS:
        action = dests.pop(specs.flag_dest(spec))
        assert action.option_strings == ["--" + specs.flag_dest(spec).replace("_", "-")]
        assert type(action).__name__ == ("_AppendAction" if spec.kind == "dict" else "_StoreAction")
    assert set(dests) == {"dry_run", "force", "no_wait", "background", "help"}  # magics own


def test_flag_help_names_the_model_member_until_help_is_asked(shell):
    """The docstring (``%glue_session?``) is made at import, with no model; ``-h`` reads it."""
    doc = flat(GlueMagics.glue_session.__doc__)
    enum = INPUT.members["WorkerType"].enum
    assert "One of botocore's CreateSession WorkerType." in doc
    assert ", ".join(enum) not in doc
    shown = flat(run(shell, "%glue_session -h"))
    assert shown.startswith("%glue_session [--role ROLE]")
    assert f"One of {', '.join(enum)}." in shown  # every worker type botocore knows
    assert "Comma-separated: A,B." in shown and "KEY=VALUE; repeatable." in shown
    assert "--dry-run Print the request only." in shown
    assert flat(run(shell, "%glue_session --help")) == shown


def test_configure_doc_lists_every_key_of_the_table():
    doc = flat(GlueMagics.configure.__doc__)
    assert "{keys}" not in doc
    for spec in SPECS:
        assert spec.name in doc
        for alias in spec.aliases:
            assert alias in doc
    keys = specs.configure_keys()
    assert keys["iam_role"] == "role" and keys["Connections"] == "connections"
    assert keys["WorkerType"] == "worker_type" and keys["workers"] == "number_of_workers"


def test_each_aws_kernel_option_magic_sets_its_option(shell):
    """aws-glue-sessions 1.0.9 names (glue_kernel_utils/KernelMagics.py), and %glue_ray."""
    line_magics = shell.magics_manager.magics["line"]
    samples = {"role": ROLE, "worker_type": "G.2X", "number_of_workers": "7", "tags": "a=b"}
    for magic, (option, fixed) in specs.aws_magics().items():
        assert magic in line_magics, magic
        text = samples.get(option, "") if fixed is None else ""
        if text:
            run(shell, f"%{magic} {text}")
            assert getattr(shell.magics_manager.registry["GlueMagics"], option) is not None
    run(shell, "%glue_ray")
    run(shell, "%worker_type Z.2X")
    request = json.loads(run(shell, "%glue_session --dry-run").rsplit("}", 1)[0] + "}")
    assert request["Command"]["Name"] == "glueray" and request["NumberOfWorkers"] == 7
    assert request["Role"] == ROLE and request["Tags"]["a"] == "b"  # with ours (tags.py)
    assert specs.aws_magics()["session_id_prefix"] == ("id_prefix", None)
    assert specs.aws_magics()["endpoint"] == ("endpoint_url", None)


def test_env_names_lead_with_glue_upper_then_extras_then_lowercase():
    by = {s.name: specs.env_names(s) for s in SPECS}
    assert by["role"][:4] == ("GLUE_ROLE", "GLUE_ROLE_ARN", "GLUE_IAM_ROLE", "glue_role")
    assert by["region"] == ("GLUE_REGION", "glue_region")
    for spec in SPECS:
        names = by[spec.name]
        assert len(set(names)) == len(names) and all(n.lower().startswith("glue_") for n in names)


def test_the_help_of_a_flag_is_safe_for_argparse():
    """argparse %-formats help; a row whose help says 50% must still build the flag."""
    row = OptionSpec("share", "float", example="0.5", help="Share, e.g. 50% of it.")
    ((names, kwargs),) = specs.flag_arguments([row])
    parser = magic_arguments()(arguments.option_flags([row])(lambda self, line: None)).parser
    assert names == ("--share",) and "50% of it" in parser.format_help()
    assert kwargs["help"] == "Share, e.g. 50%% of it."


# --------------------------------------------------------------------------- one row more

NEW_ROW = (
    '    OptionSpec("session_api", "str", ("SessionType",), example="LIVY", choices=True,'
    ' help="Statements (LIVY) or Spark Connect.", aws_magic="session_api"),\n'
)


def test_a_row_more_is_a_trait_flag_env_name_configure_key_and_aws_magic():
    """The generators take the table: one row more makes each name, nothing else edited."""
    row = OptionSpec("session_api", "str", ("SessionType",), choices=True, aws_magic="api")
    table = (*SPECS, row)
    assert "session_api" in option_traits(table) and "session_api" not in option_traits()
    parser = magic_arguments()(arguments.option_flags(table)(lambda self, line: None)).parser
    assert parser.parse_args(["--session-api", "LIVY"]).session_api == "LIVY"
    assert specs.env_names(row) == ("GLUE_SESSION_API", "glue_session_api")
    assert specs.configure_keys(table)["SessionType"] == "session_api"
    assert "session_api" in specs.configure_key_list(table)
    assert specs.aws_magics(table)["api"] == ("session_api", None)
    assert "One of botocore's CreateSession SessionType." in flat(parser.format_help())


@pytest.mark.skipif("SessionType" not in INPUT.members, reason="this botocore has no SessionType")
def test_one_line_in_specs_makes_an_option_everywhere(tmp_path):
    """The proof of "one line": a scratch copy of the package with one line added to SPECS
    (CreateSession's SessionType, which the model accepts) and no other edit; every way to
    set the option reaches the request, and ``-h`` lists the model's values."""
    package = tmp_path / "glue_magics"
    shutil.copytree(Path(glue_magics.__file__).parent, package, ignore=_no_caches)
    source = (package / "specs.py").read_text()
    anchor = "SPECS: tuple[OptionSpec, ...] = (\n"
    assert source.count(anchor) == 1
    # SessionType is session_type's (spark_connect) since Spark Connect sessions, and the
    # model has no member left unclaimed: the copy hands it to the new row instead
    claim = 'members=("SessionType",),'
    assert source.count(claim) == 1
    source = source.replace(claim, "")
    (package / "specs.py").write_text(source.replace(anchor, anchor + NEW_ROW))
    script = textwrap.dedent(
        f"""
        import json, os
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.utils.capture import capture_output
        from glue_magics.kernel import CompatMagics

        ip = InteractiveShell.instance()
        ip.run_line_magic("load_ext", "glue_magics")
        glue = ip.magics_manager.registry["GlueMagics"]
        ip.register_magics(CompatMagics(ip, glue))

        def request(line=""):
            with capture_output() as cap:
                ok = ip.run_cell("%glue_session --dry-run " + line).success
            assert ok, cap.stdout + cap.stderr
            return json.loads(cap.stdout.rsplit("}}", 1)[0] + "}}").get("SessionType")

        def shown(cell):
            with capture_output() as cap:
                assert ip.run_cell(cell).success, cap.stderr
            return " ".join(cap.stdout.split())

        ip.run_cell("%config GlueMagics.role = {ROLE!r}")
        seen = {{"default": request()}}
        os.environ["GLUE_SESSION_API"] = "LIVY"
        seen["env"] = request()
        ip.run_cell("%config GlueMagics.session_api = 'SPARK_CONNECT'")
        seen["config"] = request()
        ip.run_cell("%session_api LIVY")
        seen["aws_magic"] = request()
        ip.run_cell('%%configure\\n{{"SessionType": "SPARK_CONNECT"}}')
        seen["configure"] = request()
        seen["flag"] = request("--session-api livy")
        with capture_output() as cap:
            ip.run_cell("%glue_session --dry-run --session-api REST")
        seen["refused"] = cap.stderr.strip().splitlines()[-1]
        seen["help"] = shown("%glue_session -h")
        seen["config_listing"] = shown("%config GlueMagics")
        print(json.dumps(seen))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "no")}
    env.pop("GLUE_SESSION_API", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["default"] is None
    assert seen["env"] == "LIVY" and seen["config"] == "SPARK_CONNECT"
    assert seen["aws_magic"] == "LIVY" and seen["configure"] == "SPARK_CONNECT"
    assert seen["flag"] == "LIVY"  # case folded to the model's value, as worker types are
    assert "session_api 'REST' is not a valid session_api; choose one of" in seen["refused"]
    assert (
        "--session-api SESSION_API Statements (LIVY) or Spark Connect. One of LIVY, "
        in (seen["help"])
    )
    assert "GlueMagics.session_api=<Unicode>" in seen["config_listing"]


def _no_caches(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__"]
