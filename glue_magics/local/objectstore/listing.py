"""ListObjects' pages: a bucket's directories walked in S3's order (keys by their UTF-8
bytes: a directory sorts as its name followed by ``/``).  An empty directory, or one whose
marker key ``dir/`` was put, is listed as that marker, as S3A leaves them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glue_magics.local.objectstore.keys import BadName, key_parts
from glue_magics.local.objectstore.meta import Metadata, ObjectInfo

#: S3's default and largest page of ListObjectsV2.
MAX_KEYS = 1000
#: Past every key that starts with a given prefix: no UTF-8 byte is 0xff.
_PAST = b"\xff"


@dataclass
class Listed:
    """One page of a listing."""

    contents: list[ObjectInfo]
    prefixes: list[str]
    truncated: bool
    floor: bytes | None  # where the next page starts (after it)


def page(
    meta: Metadata,
    bucket: str,
    bucket_dir: Path,
    prefix: str,
    delimiter: str,
    floor: bytes | None,
    max_keys: int,
) -> Listed:
    """One page of ListObjectsV2 of ``bucket`` (whose directory is ``bucket_dir``): keys
    after ``floor`` (bytes) that start with ``prefix``, those with ``delimiter`` after the
    prefix rolled into common prefixes."""
    contents: list[ObjectInfo] = []
    prefixes: list[str] = []
    state = {"floor": floor}
    last_floor: bytes | None = floor
    truncated = False
    for key, path, marker in _walk(meta, bucket, bucket_dir, "", prefix, state):
        if delimiter:
            at = key.find(delimiter, len(prefix))
            if at >= 0:
                common = key[: at + len(delimiter)]
                if len(contents) + len(prefixes) >= max_keys:
                    truncated = True
                    break
                prefixes.append(common)
                last_floor = common.encode("utf-8") + _PAST
                state["floor"] = last_floor  # skip the rest of it
                continue
        if len(contents) + len(prefixes) >= max_keys:
            truncated = True
            break
        try:
            if marker:
                info = meta.marker_info(bucket, key, path)
            else:
                info = meta.info(bucket, key, path, path.stat())
        except OSError:  # gone while listed
            continue
        contents.append(info)
        last_floor = key.encode("utf-8")
    return Listed(contents, prefixes, truncated, last_floor if truncated else None)


def _walk(
    meta: Metadata, bucket: str, directory: Path, base: str, prefix: str, state: dict[str, Any]
) -> Iterator[tuple[str, Path, bool]]:
    """(key, path, is a marker) under ``directory`` (whose keys start with ``base``), in
    S3's order, starting after ``state["floor"]`` as it is when each entry is reached."""
    entries = []
    try:
        with os.scandir(directory) as scan:
            for entry in scan:
                try:
                    name = entry.name.encode("utf-8")
                except UnicodeEncodeError:  # not a name a key can have
                    continue
                is_dir = entry.is_dir(follow_symlinks=False)
                if not is_dir and not entry.is_file():
                    continue
                entries.append((name + b"/" if is_dir else name, entry.name, is_dir))
    except (FileNotFoundError, NotADirectoryError):
        return
    entries.sort()
    base_bytes = base.encode("utf-8")
    prefix_bytes = prefix.encode("utf-8")
    for sort_key, name, is_dir in entries:
        whole = base_bytes + sort_key
        floor = state["floor"]
        if is_dir:
            if not (whole.startswith(prefix_bytes) or prefix_bytes.startswith(whole)):
                continue
            if floor is not None and whole < floor and not floor.startswith(whole):
                continue  # every key in it is before the floor
            key = whole.decode("utf-8")
            path = directory / name
            if (
                (floor is None or whole > floor)
                and whole.startswith(prefix_bytes)
                and meta.is_marker(bucket, key, path)
            ):
                yield key, path, True
            yield from _walk(meta, bucket, path, key, prefix, state)
        else:
            if not whole.startswith(prefix_bytes):
                continue
            if floor is not None and whole <= floor:
                continue
            try:
                key_parts(whole.decode("utf-8"))
            except BadName:
                continue
            yield whole.decode("utf-8"), directory / name, False
