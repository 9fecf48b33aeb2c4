"""How the magics read their line: flags from the options table, words as a shell splits them.

``magic_arguments`` (IPython's ``@argument`` decorators) declares the flags, so the
docstring and the flags are the ``%magic?`` help; :func:`option_flags` declares one per
row of :data:`glue_magics.specs.SPECS`.  :func:`parse` reads a line as a POSIX shell would
(quotes removed), keeps ``--flag -x`` together, and answers a misspelt flag with "did you
mean".  Every error is a one-line ``UsageError``.
"""

from __future__ import annotations

import argparse
import functools
import re
import shlex
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicHelpFormatter, argument

from glue_magics import specs
from glue_magics.specs import SPECS, OptionSpec

__all__ = [
    "MAX_COUNT",
    "ModelChoices",
    "count",
    "line_value",
    "line_words",
    "option_flags",
    "parse",
    "with_configure_keys",
]

F = TypeVar("F", bound=Callable[..., Any])


def option_flags(table: Sequence[OptionSpec] = SPECS) -> Callable[[F], F]:
    """``@argument`` decorators: a ``%glue_session`` flag per session option of the table."""

    def add(magic: F) -> F:
        for names, kwargs in reversed(specs.flag_arguments(table)):  # the first is shown first
            magic = argument(*names, **kwargs)(magic)
        return magic

    return add


class ModelChoices(MagicHelpFormatter):
    """``%glue_session -h``: the help with the values botocore's model allows an option.

    Read only then: ``magic_arguments`` makes the docstring at import, and there the help
    names the model member instead, so ``%load_ext`` loads no model
    (``benchmarks/bench_load_ext.py``).
    """

    def _get_help_string(self, action: Any) -> str | None:
        spec = specs.FLAGS.get(action.dest)
        if spec is None or not spec.choices:
            return super()._get_help_string(action)
        from glue_magics import options

        return specs.flag_help(spec, options.choices(spec))


def with_configure_keys(magic: F) -> F:
    """The ``%%configure`` keys of the table, wrapped, in place of ``{keys}`` in its doc."""
    keys = f"Keys: {specs.configure_key_list()};"
    keys = textwrap.fill(keys, 88, subsequent_indent=" " * 8, break_on_hyphens=False)
    magic.__doc__ = (magic.__doc__ or "").replace("{keys}", keys)
    return magic


def parse(magic: Any, line: str) -> Any:
    """A magic's line parsed by its ``magic_arguments`` parser, words split as a shell
    splits them, with "did you mean" for misspelt flags.

    Not ``parse_argstring``: IPython splits with ``shlex`` in non-POSIX mode, which keeps
    the quotes, so ``--description 'a b'`` would send ``'a b'`` quotes and all.  A misspelt
    flag is an error with "did you mean", never taken as an abbreviation of another.
    """
    magic.parser.allow_abbrev = False
    try:
        return magic.parser.parse_args(_dash_values(magic.parser, line_words(line)))
    except UsageError as exc:
        message = str(exc)
        if "unrecognized arguments" in message:
            from glue_magics.options import suggest

            flags = [opt for action in magic.parser._actions for opt in action.option_strings]
            unknown = [w for w in message.split(":", 1)[1].split() if w.startswith("-")]
            hint = suggest(unknown[0].split("=")[0], flags) if unknown else ""
            raise UsageError(_one_line(f"{message}{hint}")) from None
        raise UsageError(_one_line(message)) from None


def _one_line(message: str) -> str:
    """argparse quotes the words it rejects as they are; a word with a newline or another
    control character (``\\<newline>`` in a line) is shown escaped, so the error is one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], message)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def line_words(line: str) -> list[str]:
    """A magic's line split into words as a POSIX shell would: quotes removed, escaped
    quotes kept (``--description 'nightly backfill'`` is one word, ``nightly backfill``).

    An unterminated quote is a one-line UsageError, not shlex's ValueError.
    """
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{line.strip()!r} cannot be read: {exc}; close the quote") from None


def _dash_values(parser: Any, words: list[str]) -> list[str]:
    """``--flag -x`` -> ``--flag=-x`` when ``-x`` is not a flag: a shell passes ``-x`` as the
    flag's value, while argparse would take it for a flag and refuse the line."""
    flags = {opt for action in parser._actions for opt in action.option_strings}
    takes_value = {
        opt for action in parser._actions if action.nargs != 0 for opt in action.option_strings
    }
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else None
        if word in takes_value and nxt is not None and nxt.startswith("-") and nxt not in flags:
            out.append(f"{word}={nxt}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out


#: The largest count a flag takes (rows, lines): Spark's LIMIT is a 32-bit int.
MAX_COUNT = 10**9


def count(text: str) -> int:
    """A flag's count of rows or lines (``--tail 50``, ``-n 20``): digits only, 0 or more.

    Stricter than ``int``, which also takes ``+5``, ``1_000`` and other scripts' digits;
    the error is argparse's, so the magic answers one line naming the flag."""
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a count; give a whole number of 0 or more, e.g. 20"
        )
    value = int(text)
    if value > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{value} is above the maximum of {MAX_COUNT}")
    return value


def line_value(line: str) -> str:
    """The one value a magic such as ``%glue_stop ID`` or ``%iam_role ARN`` takes: its words
    read as a shell reads them, joined by single spaces (so quoting is optional)."""
    return " ".join(line_words(line))


def one_line_errors(fn: F) -> F:
    """The error-mapping decorator: a ``GlueError`` or ``OptionError`` from below (one line
    already) becomes a ``UsageError``, which IPython shows as one line, no traceback; the
    display words its next step with the magic to run (``display.explain``)."""

    @functools.wraps(fn)
    def mapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            from glue_magics.options import OptionError
            from glue_magics.service import GlueError

            if isinstance(exc, GlueError | OptionError):
                from glue_magics.display import explain

                raise UsageError(explain(exc)) from None
            raise

    return mapped  # type: ignore[return-value]
