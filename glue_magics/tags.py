"""The tags glue-magics puts on the sessions it creates, and the filters that find them again.

Every session created here carries who made it and where: ``glue-magics:creator`` (always
``glue-magics``), ``glue-magics:user``, ``glue-magics:host``, and where the frontend says,
``glue-magics:notebook`` and ``glue-magics:kernel``.  ``glue-magics sessions --mine`` and
``%glue_sessions --mine`` find a user's sessions by them (ListSessions takes a ``Tags``
filter: botocore's Glue model, ``ListSessionsRequest.Tags``), and ``%glue_reconnect --last``
a notebook's.

The keys are namespaced, so they never meet a user's own tags, and a user's tag wins on any
clash all the same.  The service's limits are botocore's model's (``TagsMap``: at most 50
entries; ``TagKey`` 1-128 characters, ``TagValue`` 0-256): ours fill only the room the
user's tags leave, creator first.  Values keep to the characters AWS's tagging docs allow
("Tag naming limits and requirements": letters, numbers, spaces, and ``_ . : / = + - @``);
any other becomes ``_``.  Only the standard library is imported here.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

PREFIX = "glue-magics:"
CREATOR_KEY = PREFIX + "creator"
CREATOR = "glue-magics"
USER_KEY = PREFIX + "user"
HOST_KEY = PREFIX + "host"
NOTEBOOK_KEY = PREFIX + "notebook"
KERNEL_KEY = PREFIX + "kernel"
#: Ours, most wanted first: when the user's tags leave little room, the last ones go.
ORDER = (CREATOR_KEY, USER_KEY, HOST_KEY, NOTEBOOK_KEY, KERNEL_KEY)

_NOT_ALLOWED = re.compile(r"[^\w .:/=+\-@]")  # \w: letters and digits of any script, and _
_CONNECTION_FILE = re.compile(r"kernel-([\w-]+)\.json$")


def clean(value: str, most: int | None = None) -> str:
    """A tag value the service takes: disallowed characters made ``_``, a leading ``aws:``
    (reserved for AWS: Glue's "Tagging APIs" docs) escaped as ``_aws:``; over ``most``
    characters (the model's TagValue limit), the tail is kept, where a path names its file."""
    text = _NOT_ALLOWED.sub("_", value.strip())
    most = value_limit() if most is None else most
    text = text[len(text) - most :] if len(text) > most else text
    return "_" + text[: most - 1] if text[:4].lower() == "aws:" else text


def _tags_shape() -> Any:
    from glue_magics.model import operation

    return operation("CreateSession").input_shape.members["Tags"]


def value_limit(shape: Any = None) -> int:
    """The longest tag value the model allows (256)."""
    shape = shape if shape is not None else _tags_shape()
    return int(shape.value.metadata.get("max", 256))


def fit(theirs: Mapping[str, str], ours: Mapping[str, str], shape: Any = None) -> dict[str, str]:
    """The user's tags, then as many of ours as the model's TagsMap ``shape`` has room for,
    in :data:`ORDER`; none of ours replaces one of theirs, and theirs are never dropped."""
    shape = shape if shape is not None else _tags_shape()
    most = int(shape.metadata.get("max", 50))
    tags = dict(theirs)
    for key in sorted(ours, key=lambda k: ORDER.index(k) if k in ORDER else len(ORDER)):
        if key not in tags and len(tags) < most:
            tags[key] = clean(ours[key], value_limit(shape))
    return tags


# --------------------------------------------------------------------------- where we are


def user(environ: Mapping[str, str] | None = None) -> str | None:
    """Who runs this: JupyterHub's user name where there is one (on a hub every user may be
    ``jovyan`` to the system), else the login name."""
    environ = os.environ if environ is None else environ
    if environ.get("JUPYTERHUB_USER"):
        return environ["JUPYTERHUB_USER"]
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return None


def host() -> str:
    import socket

    return socket.gethostname()


def _user_ns() -> Mapping[str, Any]:
    """The running IPython's user namespace, or nothing (IPython is not imported for it)."""
    if "IPython" not in sys.modules:
        return {}
    from IPython import get_ipython

    shell = get_ipython()
    return getattr(shell, "user_ns", None) or {}


def notebook(
    environ: Mapping[str, str] | None = None, user_ns: Mapping[str, Any] | None = None
) -> str | None:
    """The notebook's path where the frontend gives one: VS Code's ``__vsc_ipynb_file__``,
    ipykernel's ``__session__`` (from ``JPY_SESSION_NAME``, which Jupyter Server sets:
    ipykernel/ipkernel.py), or ``JPY_SESSION_NAME`` itself."""
    environ = os.environ if environ is None else environ
    names = _user_ns() if user_ns is None else user_ns
    for value in (
        names.get("__vsc_ipynb_file__"),
        names.get("__session__"),
        environ.get("JPY_SESSION_NAME"),
    ):
        if isinstance(value, str) and value.strip():
            return value
    return None


def kernel_id(argv: Sequence[str] | None = None) -> str | None:
    """The kernel's id, from the connection file it was started with (``-f
    .../kernel-<id>.json``, as jupyter_client's MultiKernelManager names it)."""
    for arg in sys.argv if argv is None else argv:
        match = _CONNECTION_FILE.search(arg)
        if match:
            return match[1]
    return None


def session_tags(
    environ: Mapping[str, str] | None = None,
    argv: Sequence[str] | None = None,
    user_ns: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Ours for a session created now, those known: creator, user, host, notebook, kernel."""
    found = {
        CREATOR_KEY: CREATOR,
        USER_KEY: user(environ),
        HOST_KEY: host(),
        NOTEBOOK_KEY: notebook(environ, user_ns),
        KERNEL_KEY: kernel_id(argv),
    }
    return {key: clean(value) for key, value in found.items() if value}


# --------------------------------------------------------------------------- filters


def mine(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ListSessions ``Tags`` filter of this user's sessions made by glue-magics on this
    host (the values as :func:`session_tags` put them)."""
    return {
        key: clean(value)
        for key, value in ((CREATOR_KEY, CREATOR), (USER_KEY, user(environ)), (HOST_KEY, host()))
        if value
    }


def this_notebook(
    environ: Mapping[str, str] | None = None, user_ns: Mapping[str, Any] | None = None
) -> dict[str, str] | None:
    """The filter of this notebook's sessions (this user's, on this host), or None when the
    frontend gives no notebook path."""
    path = notebook(environ, user_ns)
    return {**mine(environ), NOTEBOOK_KEY: clean(path)} if path else None
