"""The parsers of what users write to awsglue: field paths, resolveChoice actions, S3
exclusion globs and job arguments.

Pure Python with no imports from the rest of awsglue, so the tests can load it on its own
(``awsglue`` itself is importable only inside a local session).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

ARRAY = "[]"  # the segment of a path that steps into an array's elements

# resolveChoice's actions, from AWS's ResolveChoice class page:
# https://docs.aws.amazon.com/glue/latest/dg/aws-glue-api-crawler-pyspark-transforms-ResolveChoice.html
ACTIONS = ("cast", "project", "make_cols", "make_struct", "match_catalog")


class GlueArgumentError(ValueError):
    """A Glue call with an argument it cannot take (a bad spec, a missing option)."""


def parse_path(text: str) -> list[str]:
    """A Glue field path as segments: ``a.b`` -> ``['a', 'b']``, ``myList[].price`` ->
    ``['myList', '[]', 'price']``; a name in backticks may hold dots (``a.`b.c```)."""
    if not isinstance(text, str) or not text:
        raise GlueArgumentError(f"field path {text!r} is empty: name a field, e.g. 'a.b'")
    segments: list[str] = []
    i, n = 0, len(text)
    expect_name = True
    while i < n:
        if expect_name:
            if text[i] == "`":
                end = text.find("`", i + 1)
                if end < 0:
                    raise GlueArgumentError(
                        f"field path {text!r} has an unclosed backtick: close it, e.g. `a.b`"
                    )
                name, i = text[i + 1 : end], end + 1
            else:
                match = re.compile(r"[^.`\[]*").match(text, i)
                assert match is not None
                name, i = match.group(0), match.end()
            if not name:
                raise GlueArgumentError(
                    f"field path {text!r} has an empty name at {i}: write names between dots"
                )
            segments.append(name)
            expect_name = False
        elif text.startswith(ARRAY, i):
            segments.append(ARRAY)
            i += 2
        elif text[i] == "." and i + 1 < n:
            i += 1
            expect_name = True
        else:
            raise GlueArgumentError(
                f"field path {text!r} cannot be read at {i}: write a.b, `a.b` or a[].b"
            )
    return segments


def format_path(segments: Sequence[str]) -> str:
    """The inverse of :func:`parse_path`: names with dots or backticks-worthy characters in
    backticks, ``[]`` glued to the name before it."""
    out = ""
    for segment in segments:
        if segment == ARRAY:
            out += ARRAY
            continue
        name = f"`{segment}`" if re.search(r"[.`\[\]]", segment) else segment
        out += f".{name}" if out else name
    return out


def parse_action(action: str) -> tuple[str, str | None]:
    """A resolveChoice action: ``cast:long`` -> ``('cast', 'long')``, ``make_cols`` ->
    ``('make_cols', None)``."""
    if not isinstance(action, str):
        raise GlueArgumentError(f"resolveChoice action {action!r} is not a string")
    kind, sep, arg = action.partition(":")
    kind = kind.strip()
    if kind not in ACTIONS:
        raise GlueArgumentError(
            f"resolveChoice action {action!r} is unknown: use cast:TYPE, project:TYPE, "
            "make_cols, make_struct or match_catalog"
        )
    if kind in ("cast", "project"):
        if not sep or not arg.strip():
            raise GlueArgumentError(
                f"resolveChoice action {action!r} needs a type: e.g. {kind}:long"
            )
        return kind, arg.strip()
    if sep:
        raise GlueArgumentError(f"resolveChoice action {action!r} takes no type: write {kind}")
    return kind, None


def glob_to_regex(pattern: str) -> str:
    """An S3 ``exclusions`` glob as a regular expression: ``**`` crosses ``/``, ``*`` and
    ``?`` stay within one path segment, ``[...]`` and ``{a,b}`` as in Unix globs (AWS's
    "Connection types and options for ETL" page calls them Unix-style glob patterns)."""
    out, i, n, depth = [], 0, len(pattern), 0
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif c == "{":
            out.append("(?:")
            depth += 1
        elif c == "}" and depth:
            out.append(")")
            depth -= 1
        elif c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    out.extend(")" * depth)
    return "".join(out)


def parse_exclusions(value: object) -> list[str]:
    """``exclusions`` as AWS documents it, a string holding a JSON list of globs (a Python
    list is taken too)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise GlueArgumentError(
                f'exclusions {value!r} is not a JSON list: write e.g. "[\\"**.txt\\"]"'
            ) from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GlueArgumentError(
            f'exclusions {value!r} is not a list of glob strings: write e.g. "[\\"**.txt\\"]"'
        )
    return list(value)


def resolve_options(argv: Sequence[str], options: Sequence[str]) -> dict[str, str]:
    """getResolvedOptions' parsing: each name in ``options`` must be given as ``--NAME
    VALUE`` or ``--NAME=VALUE`` in ``argv`` (the first element is the program, as in
    ``sys.argv``); the last occurrence wins, other arguments are ignored.  As documented on
    AWS's "Accessing parameters using getResolvedOptions" page; the keys are argparse's
    (dashes become underscores: ``job-bookmark-option`` -> ``job_bookmark_option``)."""
    wanted = list(options)
    found: dict[str, str] = {}
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        if isinstance(arg, str) and arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if name in wanted:
                if eq:
                    found[name] = value
                elif i + 1 < len(args):
                    found[name] = args[i + 1]
                    i += 1
                else:
                    raise GlueArgumentError(f"argument --{name} has no value: pass --{name} VALUE")
        i += 1
    missing = [name for name in wanted if name not in found]
    if missing:
        names = ", ".join(f"--{name}" for name in missing)
        raise GlueArgumentError(
            f"the following arguments are required: {names} (pass them as job arguments, "
            "or in a session put them in sys.argv)"
        )
    return {name.replace("-", "_"): found[name] for name in wanted}
