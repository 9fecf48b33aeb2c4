"""Catalog names: folded as the service stores them, and spelled as file names.

The model documents ``DatabaseInput.Name`` and ``TableInput.Name`` as "folded to lowercase
when it is stored" (and ``Table.Name``: "For Hive compatibility, this must be entirely
lowercase"), so every name a request gives is folded before it is looked up or stored.
What a name may contain is the model's ``NameString`` (1-255 characters of one line),
checked by :mod:`glue_magics.local.validation` before any of this runs; recorded replies
show names the Hive rules would refuse (``business-operations``), so no rule is added here.

A name becomes a file name that is safe on any file system and tells names apart:
``[a-z0-9_-]`` stand for themselves, every other character is ``%XX`` per UTF-8 byte
(so ``.``, ``..`` and ``/`` cannot occur), and a spelling too long for a file name
(255 bytes) is a digest instead; the stored record keeps the name itself.
"""

from __future__ import annotations

import hashlib
import re

#: Characters a file name keeps as they are; ``%`` is never one, so spellings cannot clash.
_PLAIN = re.compile(r"[a-z0-9_-]")
#: Longest spelled name kept readable: room for a suffix (``.json``) within 255 bytes.
_MAX_SPELLED = 200


def fold(name: str) -> str:
    """The name as the service stores it: lowercase (Hive's rule, the model's words)."""
    return name.lower()


def file_name(name: str) -> str:
    """The file-system spelling of a (folded) name: injective, no separators, no dots."""
    spelled = "".join(
        char
        if _PLAIN.fullmatch(char)
        else "".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))
        for char in name
    )
    if len(spelled) <= _MAX_SPELLED:
        return spelled
    # "~" is never in a spelling, so a digest cannot meet a spelled name.
    return "~" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
