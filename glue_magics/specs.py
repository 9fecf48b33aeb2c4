"""The one table of session options, and every name a user types for one.

A row of :data:`SPECS` declares an option once: its canonical name, its kind, where it
lands in the CreateSession request, and the names users give it.  Generated from the
table, never written out again: the ``GlueMagics`` traits and the ``%glue_session`` flags
(``magics``), the environment and AWS-profile names and the ``%%configure`` keys (here,
read by ``options``), and the option magics of AWS's Glue kernel (``kernel``).  How a
value is read and checked is ``options``' business: coercion by ``kind``, and the
service's rules as small named functions there.

Plain data and no imports beyond the standard library: ``%load_ext`` imports this module,
so nothing here may load botocore's model.  Where the model gives an option's values
(``choices``), help names the model member, and ``%glue_session -h`` reads the values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

__all__ = [
    "DEFAULTS",
    "FLAGS",
    "OPTION_NAMES",
    "ROLE_EXAMPLE",
    "SPECS",
    "OptionSpec",
    "aws_magics",
    "configure_key_list",
    "configure_keys",
    "env_names",
    "flag_arguments",
    "flag_dest",
    "flag_help",
]


class OptionSpec(NamedTuple):
    """One session option: its canonical name, where it lands in the request, its names.

    ``kind`` is one of ``str int float list dict args bool json`` (how ``options`` reads a
    value); ``args`` is a string that becomes one DefaultArguments entry (``arg``); ``path``
    is the request location (``None`` for client settings and values that only shape other
    members).  A NamedTuple, not a dataclass: ``%load_ext`` builds this class, and a
    dataclass of this many fields costs it about 1.5 ms.
    """

    name: str
    kind: str
    path: tuple[str, ...] | None = None
    arg: str | None = None  # DefaultArguments key this option owns (spark_conf -> --conf)
    aliases: tuple[str, ...] = ()  # %%configure keys besides the name and PascalCase path
    env: tuple[str, ...] = ()  # environment / profile names besides GLUE_<NAME>
    flag: str | None = None  # the %glue_session dest (--flag-name), when not the name
    example: str = ""
    unit: str = ""
    help: str = ""
    client: bool = False  # a client setting, not part of the request
    choices: bool = False  # the values are the model member's enum (%glue_session -h lists them)
    aws_magic: str | None = None  # AWS's Glue kernel's line magic that sets it (%iam_role ARN)
    aws_values: tuple[tuple[str, str], ...] = ()  # its magics that set one value: (%etl, etl)
    members: tuple[str, ...] = ()  # other request members it sets (session_type: SessionType)


ROLE_EXAMPLE = "arn:aws:iam::123456789012:role/GlueRole"

# The AWS-kernel magic names are aws-glue-sessions 1.0.9's
# (glue_kernel_utils/KernelMagics.py, the @line_magic names), plus %glue_ray.
# A table reads best one option to a row.
# fmt: off
SPECS: tuple[OptionSpec, ...] = (
    OptionSpec("role", "str", ("Role",), aliases=("iam_role", "role_arn"),
        env=("GLUE_ROLE_ARN", "GLUE_IAM_ROLE", "GLUE_ROLE"), example=ROLE_EXAMPLE,
        help="IAM role ARN the session runs as.", aws_magic="iam_role"),
    OptionSpec("session_type", "str", ("Command", "Name"), example="etl",
        help="etl, streaming, ray or spark_connect (Glue 5.1+: a live `spark` here).",
        aws_magic="session_type", members=("SessionType",),
        aws_values=(("etl", "etl"), ("streaming", "streaming"), ("glue_ray", "ray"))),
    OptionSpec("glue_version", "str", ("GlueVersion",), env=("GLUE_VERSION",), example="5.0",
        help="Glue version, e.g. 5.0.", aws_magic="glue_version"),
    OptionSpec("worker_type", "str", ("WorkerType",), example="G.2X", choices=True,
        help="Worker type, e.g. G.1X (Spark) or Z.2X (Ray).", aws_magic="worker_type"),
    OptionSpec("number_of_workers", "int", ("NumberOfWorkers",), aliases=("workers", "num_workers"),
        flag="workers", example="5", help="Number of workers.", aws_magic="number_of_workers"),
    OptionSpec("max_capacity", "float", ("MaxCapacity",), example="10",
        help="DPUs, instead of worker type and number of workers."),
    OptionSpec("idle_timeout", "int", ("IdleTimeout",), example="60", unit="minute",
        help="Minutes idle before the session stops.", aws_magic="idle_timeout"),
    OptionSpec("timeout", "int", ("Timeout",), example="480", unit="minute",
        help="Minutes before the session stops, idle or not.", aws_magic="timeout"),
    OptionSpec("python_version", "str", ("Command", "PythonVersion"), example="3",
        help="Python version of the session command."),
    OptionSpec("connections", "list", ("Connections", "Connections"), example="my-connection",
        help="Glue connection names.", aws_magic="connections"),
    OptionSpec("security_config", "str", ("SecurityConfiguration",),
        aliases=("security_configuration",), example="my-security-config",
        help="Security configuration name.", aws_magic="security_config"),
    OptionSpec("tags", "dict", ("Tags",), flag="tag", example="team=data",
        help="Tags put on the session.", aws_magic="tags"),
    OptionSpec("default_arguments", "dict", ("DefaultArguments",), aliases=("arguments",),
        flag="arg", example="enable-metrics=true",
        help="Job arguments (DefaultArguments); '--' is added to keys."),
    OptionSpec("spark_conf", "dict", arg="--conf", aliases=("conf",), flag="conf",
        example="spark.sql.shuffle.partitions=8", help="Spark configuration, sent as --conf.",
        aws_magic="spark_conf"),
    OptionSpec("additional_python_modules", "args", arg="--additional-python-modules",
        aliases=("python_modules",), flag="python_modules", example="polars,pyarrow==15.0.0",
        help="pip requirements, comma-separated.", aws_magic="additional_python_modules"),
    OptionSpec("extra_py_files", "args", arg="--extra-py-files", example="s3://bucket/lib.zip",
        help="S3 paths of extra Python files.", aws_magic="extra_py_files"),
    OptionSpec("extra_jars", "args", arg="--extra-jars", example="s3://bucket/lib.jar",
        help="S3 paths of extra jars.", aws_magic="extra_jars"),
    OptionSpec("session_language", "args", arg="--session-language", aliases=("language",),
        example="scala", help="python or scala: the language of the session's statements."),
    OptionSpec("id", "str", ("Id",), aliases=("session_id",), env=("GLUE_SESSION_ID",),
        example="my-session",
        help="Session id (else generated from id_prefix); one session at a time."),
    OptionSpec("id_prefix", "str", aliases=("session_id_prefix",), env=("GLUE_SESSION_ID_PREFIX",),
        example="team-a", help="Prefix of generated session ids.", aws_magic="session_id_prefix"),
    OptionSpec("description", "str", ("Description",), example="exploration",
        help="Session description."),
    OptionSpec("request_origin", "str", ("RequestOrigin",), example="notebook",
        help="RequestOrigin sent with the requests."),
    OptionSpec("region", "str", aliases=("region_name",), example="us-east-1", client=True,
        help="AWS region (else the profile's or AWS_REGION).", aws_magic="region"),
    OptionSpec("profile", "str", aliases=("profile_name",), example="dev", client=True,
        help="AWS profile name.", aws_magic="profile"),
    OptionSpec("endpoint_url", "str", example="http://127.0.0.1:8998", client=True,
        help="Glue endpoint URL; 'local' starts the embedded local endpoint in this process.",
        aws_magic="endpoint"),
)
# fmt: on

#: Canonical option names, in the table's order (the rows of ``%glue_config``).
OPTION_NAMES: tuple[str, ...] = tuple(s.name for s in SPECS)

#: The lowest source: what a session gets when nothing else says otherwise.
DEFAULTS: dict[str, Any] = {
    "glue_version": "5.0",
    "worker_type": "G.1X",
    "number_of_workers": 5,
    "idle_timeout": 60,
    "session_type": "etl",
}


# --------------------------------------------------------------------------- %glue_session


def flag_dest(spec: OptionSpec) -> str:
    """The argparse dest of an option's ``%glue_session`` flag (``--worker-type``: worker_type)."""
    return spec.flag or spec.name


#: ``%glue_session`` flag dest -> its option.
FLAGS: dict[str, OptionSpec] = {flag_dest(s): s for s in SPECS}

_FLAG_FORMS = {
    "list": " Comma-separated: A,B.",
    "dict": " KEY=VALUE; repeatable.",
}


def flag_help(spec: OptionSpec, choices: Sequence[str] | None = None) -> str:
    """The help of an option's flag, ``%``-escaped as argparse wants it.

    An option whose values are the model's enum names the member it reads them from
    (``one of botocore's CreateSession WorkerType``) until ``choices`` gives the values:
    reading them needs botocore's model, which only ``%glue_session -h`` may load.
    """
    text = spec.help + _FLAG_FORMS.get(spec.kind, "")
    if spec.choices:
        member = f"botocore's CreateSession {'.'.join(spec.path or ())}"
        text += f" One of {', '.join(choices) if choices is not None else member}."
    return text.replace("%", "%%")


def flag_arguments(
    specs: Sequence[OptionSpec] = SPECS,
) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """``add_argument`` arguments of each option's flag, in the table's order."""
    out = []
    for spec in specs:
        dest = flag_dest(spec)
        kwargs: dict[str, Any] = {"dest": dest, "help": flag_help(spec)}
        if spec.kind == "dict":
            kwargs["action"] = "append"
        out.append((("--" + dest.replace("_", "-"),), kwargs))
    return out


# --------------------------------------------------------------------------- other names


def env_names(spec: OptionSpec) -> tuple[str, ...]:
    """Environment names of one option, first wins: GLUE_<NAME>, extras, lowercase forms.

    The lowercase ``glue_*`` forms are the names AWS's own Glue kernel reads, and the keys
    of an AWS config profile (``options.from_profile``).
    """
    base = spec.name.upper()
    upper = dict.fromkeys([base if base.startswith("GLUE_") else f"GLUE_{base}", *spec.env])
    return tuple(dict.fromkeys([*upper, *(n.lower() for n in upper)]))


def configure_keys(specs: Sequence[OptionSpec] = SPECS) -> dict[str, str]:
    """``%%configure`` key -> option: names, aliases, the API's PascalCase member names
    (``{"Connections": [...]}`` for a list), and flag dests.  ``options`` adds the request
    members this table does not know."""
    keys: dict[str, str] = {}
    for spec in specs:
        keys[spec.name] = spec.name
        for alias in spec.aliases:
            keys[alias] = spec.name
        if spec.path and (len(spec.path) == 1 or spec.kind == "list"):
            keys[spec.path[0]] = spec.name
        for member in spec.members:
            keys[member] = spec.name
        keys.setdefault(flag_dest(spec), spec.name)
    return keys


def configure_key_list(specs: Sequence[OptionSpec] = SPECS) -> str:
    """The ``%%configure`` keys for its help: each option with its aliases."""
    return ", ".join(
        f"{s.name} (or {', '.join(s.aliases)})" if s.aliases else s.name for s in specs
    )


def aws_magics(specs: Sequence[OptionSpec] = SPECS) -> dict[str, tuple[str, str | None]]:
    """AWS's Glue kernel's option magics -> (option, the value it sets or None for the line's).

    ``%worker_type G.2X`` sets worker_type to G.2X; ``%etl`` sets session_type to etl.
    """
    out: dict[str, tuple[str, str | None]] = {}
    for spec in specs:
        if spec.aws_magic:
            out[spec.aws_magic] = (spec.name, None)
        for magic, value in spec.aws_values:
            out[magic] = (spec.name, value)
    return out


_TRAIT_OF_KIND = {"str": "Unicode", "args": "Unicode", "int": "Int", "float": "Float",
                  "bool": "Bool", "list": "List", "dict": "Dict", "json": "Any"}  # fmt: skip


def option_traits(table: Sequence[OptionSpec] = SPECS) -> dict[str, Any]:
    """A ``GlueMagics`` trait per session option of the table; ``None`` means "not set
    here", so lower sources show through (``%config GlueMagics.role = ...`` is "config")."""
    import traitlets

    return {
        spec.name: getattr(traitlets, _TRAIT_OF_KIND[spec.kind])(
            default_value=None, allow_none=True, help=spec.help
        ).tag(config=True)
        for spec in table
    }
