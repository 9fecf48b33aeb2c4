"""Large results home as Arrow: ``%%glue_sql -o`` and ``%glue_fetch`` on statement sessions.

The session turns the result into one Arrow IPC stream (compressed: zstd, else lz4, else
none) and prints it base64 on one line, behind a header line that starts with a marker.
That is plain stdout, the only output user code can make on AWS Glue: botocore's Glue
model (``service-2.json``) has ``StatementOutputData`` with ``TextPlain`` alone, and a
rich MimeType result comes only from Livy's statement magics (Livy's
``repl/src/main/resources/fake_shell.py``: ``%table``, ``%json``, ``%matplot``; AWS's
kernel reads ``image/png`` and ``text/plain`` from an S3-held result.json only,
``BaseKernel.display_result`` in aws-glue-sessions 1.0.9).  A large stdout comes back
through S3 as ``text/uri-list`` like any output (``results.read_data`` reads it).

The whole result travels: ``-n`` only caps what is shown.  The session measures the
compressed stream as it writes it and stops above ``fetch_max_mb``, answering its size
instead of the data; the kernel decodes the base64 once, reads the stream with pyarrow
and makes pandas with ``self_destruct`` (Arrow buffers freed column by column), so no
JSON copy of the rows is ever made.

The code sent works on AWS Glue 4.0 (Spark 3.3, Python 3.10) and 5.0 (Spark 3.5, Python
3.11), whose images ship pyarrow and pandas (AWS Glue developer guide, "Python modules
already provided in AWS Glue"; Glue 4.0's pyarrow is 10.0.0, as aws/aws-sdk-pandas#1849
lists its pre-installed modules: IPC compression is in pyarrow since 2.0), and on the
local endpoint's pyspark 4: ``toArrow()``
(pyspark 4.0+), else ``_collect_as_arrow()`` (Spark 3.x), else batches of
``toLocalIterator()``.  A session without pyarrow is one line.

pyarrow and pandas are imported here at the first fetch, never at ``%load_ext``.
"""

from __future__ import annotations

import binascii
import json
import keyword
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Starts the header line the session prints before the payload line.
MARKER = "__glue_magics_arrow__"
#: What the protocol's header says it is; a newer shape gets a new number.
VERSION = 1
_MB = 10**6

# The session's side.  Names start with _gm_ so they never clash with the user's, and the
# one function is deleted after it ran.  ``{get}`` is an expression of the session giving
# the object to send (a Spark or pandas DataFrame, a pandas Series, a DynamicFrame).
_TEMPLATE = """\
def _gm_home(_gm_get, _gm_limit):
    import base64 as _b64, json as _json, sys as _sys

    def say(head, payload=None):
        head["v"] = {version}
        _sys.stdout.write({marker!r} + _json.dumps(head, default=str) + "\\n")
        if payload is not None:
            _sys.stdout.write(_b64.b64encode(payload).decode("ascii") + "\\n")

    try:
        import pyarrow as pa
    except ImportError as exc:
        return say({{"error": "nopyarrow", "detail": str(exc)}})
    obj, source = _gm_get(), "pandas"
    if obj is _gm_home:
        return say({{"error": "unknown"}})
    if type(obj).__name__ == "DynamicFrame" and hasattr(obj, "toDF"):
        obj, source = obj.toDF(), "dynamicframe"
    pd = _sys.modules.get("pandas")
    sql = _sys.modules.get("pyspark.sql")
    if pd is not None and isinstance(obj, pd.Series):
        obj = obj.to_frame()
    table = None
    if pd is not None and isinstance(obj, pd.DataFrame):
        try:
            table = pa.Table.from_pandas(obj)
        except (pa.ArrowException, ValueError, TypeError) as exc:  # mixed types, duplicates
            return say({{"error": "convert", "detail": type(exc).__name__ + ": " + str(exc)}})
        schema, batches = table.schema, table.to_batches()
    elif sql is not None and isinstance(obj, sql.DataFrame):
        source = "spark" if source == "pandas" else source
        if hasattr(obj, "toArrow"):  # pyspark 4.0+
            table = obj.toArrow()
            schema, batches = table.schema, table.to_batches()
        elif hasattr(obj, "_collect_as_arrow"):  # Spark 3.x: Glue 4.0 (3.3), 5.0 (3.5)
            from pyspark.sql.pandas.types import to_arrow_schema

            batches = obj._collect_as_arrow()
            schema = batches[0].schema if batches else to_arrow_schema(obj.schema)
        else:
            names, rows, batches = list(obj.columns), [], []
            for row in obj.toLocalIterator():
                rows.append(row)
                if len(rows) == 65536:
                    batches.append(pa.RecordBatch.from_arrays(
                        [pa.array(list(c)) for c in zip(*rows)], names))
                    rows = []
            if rows or not batches:
                cols = list(zip(*rows)) if rows else [[] for _ in names]
                batches.append(pa.RecordBatch.from_arrays([pa.array(list(c)) for c in cols], names))
            schema = batches[0].schema
    else:
        return say({{"error": "type", "detail": type(obj).__module__ + "." + type(obj).__name__}})
    codec = next((c for c in ("zstd", "lz4") if pa.Codec.is_available(c)), None)
    sink = pa.BufferOutputStream()
    rows = 0
    with pa.ipc.new_stream(sink, schema, options=pa.ipc.IpcWriteOptions(compression=codec)) as w:
        for batch in batches:
            w.write_batch(batch)
            rows += batch.num_rows
            if sink.tell() > _gm_limit:
                return say({{"error": "toolarge", "bytes": sink.tell(), "rows": rows}})
    del batches, table  # only the compressed stream stays
    payload = sink.getvalue()
    say({{"rows": rows, "columns": [str(n) for n in schema.names], "bytes": payload.size,
         "codec": codec or "none", "source": source}}, payload)

try:
    _gm_home({get}, {limit})
finally:
    del _gm_home
"""


def sql_code(query: str, limit_bytes: int) -> str:
    """Session Python that sends the whole result of ``query`` as Arrow (``%%glue_sql -o``)."""
    get = f"lambda: spark.sql({query.strip().rstrip(';')!r})"
    return _TEMPLATE.format(version=VERSION, marker=MARKER, get=get, limit=int(limit_bytes))


def name_code(name: str, limit_bytes: int) -> str:
    """Session Python that sends the session's variable ``name`` as Arrow (``%glue_fetch``);
    a name the session does not have is answered as such (``_gm_home`` stands for none)."""
    get = f"lambda: globals().get({name!r}, _gm_home)"
    return _TEMPLATE.format(version=VERSION, marker=MARKER, get=get, limit=int(limit_bytes))


def variable(value: str, what: str) -> str:
    """A Python variable name from a magic's line (NFKC, as Python reads identifiers), or a
    one-line ``GlueError`` naming ``what`` it was for."""
    import unicodedata

    from glue_magics.service import GlueError

    name = unicodedata.normalize("NFKC", value)
    if not name.isidentifier() or keyword.iskeyword(name):
        raise GlueError(
            f"{what} {value!r} is not a Python variable name; give one such as df", "UsageError"
        )
    return name


def transfer_bytes(limit_bytes: int) -> int:
    """The most stdout a result of ``limit_bytes`` of Arrow may weigh when it comes from
    S3: base64 (4/3) plus the header line; the session already refused anything bigger."""
    return limit_bytes * 4 // 3 + 2**20


# ---------------------------------------------------------------------------------------
# the kernel's side


@dataclass
class Fetched:
    """A result brought home: the pandas DataFrame and what it cost to bring."""

    frame: Any
    rows: int
    columns: list[str]
    nbytes: int
    codec: str
    seconds: float = 0.0

    def summary(self, name: str) -> str:
        """``%glue_fetch``'s line: where it went, its size and how long it took."""
        how = f"{_size(self.nbytes)} of Arrow ({self.codec})" if self.nbytes else self.codec
        shape = f"{self.rows} rows x {len(self.columns)} columns"
        return f"{name}: {shape}, {how}, {self.seconds:.1f} s"

    def head(self, n: int) -> list[list[Any]]:
        """The first ``n`` rows as lists of cells, for the table."""
        return head_rows(self.frame, n)


def head_rows(frame: Any, n: int) -> list[list[Any]]:
    """A pandas frame's first ``n`` rows as lists of each column's own Python values:
    ``.values`` would make one numpy array of them, showing 7 as 7.0 beside a float column."""
    return frame.head(n).to_dict("split")["data"] if n else []


def _size(n: int) -> str:
    return f"{n / _MB:.1f} MB" if n >= _MB else f"{n / 1000:.1f} kB" if n >= 1000 else f"{n} B"


def limit_bytes(fetch_max_mb: float) -> int:
    """``fetch_max_mb`` (the setting) in bytes."""
    return int(fetch_max_mb * _MB)


def _header(text: str) -> tuple[dict[str, Any], int]:
    """The last header line in ``text`` (a marker at the start of a line) and where the
    line after it begins.  Raises ValueError (one line) when there is none."""
    at = len(text)
    while True:
        at = text.rfind(MARKER, 0, at)
        if at < 0:
            raise ValueError("the session returned no Arrow result")
        if at == 0 or text[at - 1] == "\n":
            break
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    try:
        head = json.loads(text[at + len(MARKER) : end])
    except ValueError:
        raise ValueError("the Arrow result's header is not JSON") from None
    if not isinstance(head, dict):
        raise ValueError("the Arrow result's header is not a JSON object")
    return head, end + 1


def _problem(head: dict[str, Any], limit_mb: float, name: str) -> str | None:
    """The one line for a header that reports an error instead of data."""
    error = head.get("error")
    if error is None:
        return None
    if error == "nopyarrow":
        return (
            "the session has no pyarrow, which -o and %glue_fetch need: add it with "
            "%additional_python_modules pyarrow (a new session), or drop -o to see rows only"
        )
    if error == "unknown":
        return f"the session has no variable {name}; define it in a %%glue cell first"
    if error == "type":
        return (
            f"the session's {name} is a {str(head.get('detail'))[:80]}, not a Spark or pandas "
            "DataFrame, a pandas Series or a DynamicFrame"
        )
    if error == "convert":
        detail = (str(head.get("detail")).strip().splitlines() or [""])[0][:160]
        return f"the session could not make Arrow of {name}: {detail}"
    if error == "toolarge":
        size = head.get("bytes")
        size = _size(size) if isinstance(size, int) else "?"
        return (
            f"the result is more than {size} of compressed Arrow (at {head.get('rows')} rows), "
            f"above fetch_max_mb {limit_mb:g}; raise it with %config GlueMagics.fetch_max_mb "
            f"= {max(limit_mb * 4, 1):g}, or narrow the query (LIMIT, fewer columns)"
        )
    return f"the session could not send the result ({str(error)[:80]})"


def _int(head: dict[str, Any], key: str) -> int:
    value = head.get(key)
    if type(value) is not int or value < 0:
        raise ValueError(f"the Arrow result's header has no {key}")
    return value


def read(text: str, limit_mb: float = 512.0, name: str = "result") -> Fetched:
    """The result printed by the session's code, read from its stdout.

    Raises ValueError with one line for anything but a whole, well-formed result: no
    marker, a bad header, an error the session reported, a payload cut short or not
    base64 or not an Arrow stream, a row count that does not match.
    """
    head, start = _header(text)
    problem = _problem(head, limit_mb, name)
    if problem is not None:
        raise ValueError(problem)
    if head.get("v") != VERSION:
        raise ValueError(f"the Arrow result is of version {head.get('v')!r}, not {VERSION}")
    rows, nbytes = _int(head, "rows"), _int(head, "bytes")
    columns = head.get("columns")
    if not isinstance(columns, list):
        raise ValueError("the Arrow result's header has no columns")
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    while end > start and text[end - 1] in " \r\t":
        end -= 1
    expected = 4 * -(-nbytes // 3)
    if end - start != expected:
        how = "was cut short" if end - start < expected else "is longer than its header says"
        raise ValueError(
            f"the Arrow result {how}: {expected} base64 characters were sent, "
            f"{max(end - start, 0)} arrived"
        )
    codec = str(head.get("codec", "?"))
    return _frame(_decode(text, start, end, nbytes), rows, [str(c) for c in columns], codec)


#: base64 characters decoded at a time (a multiple of 4): the text is never copied whole.
_CHUNK = 4 * 2**20


def _decode(text: str, start: int, end: int, nbytes: int) -> bytearray:
    """``text[start:end]`` decoded from base64 into one buffer of ``nbytes``, a chunk at a
    time, so the kernel holds the text and the bytes but no second copy of either."""
    raw = bytearray(nbytes)
    view, pos = memoryview(raw), 0
    try:
        for at in range(start, end, _CHUNK):
            piece = binascii.a2b_base64(text[at : min(at + _CHUNK, end)])
            if pos + len(piece) > nbytes:
                break
            view[pos : pos + len(piece)] = piece
            pos += len(piece)
    except (binascii.Error, ValueError):
        raise ValueError("the Arrow result is not valid base64") from None
    finally:
        view.release()
    if pos != nbytes:
        raise ValueError(f"the Arrow result does not decode to the {nbytes} bytes its header says")
    return raw


def _frame(raw: bytes | bytearray, rows: int, columns: list[str], codec: str) -> Fetched:
    """pandas from the IPC stream bytes (given, not kept: freed once the stream is read,
    when it was compressed); the Arrow table is consumed as pandas is made."""
    nbytes = len(raw)
    pa = _pyarrow()
    try:
        table = pa.ipc.open_stream(pa.py_buffer(raw)).read_all()
        # a damaged stream can carry offsets past its buffers: checked before any read
        table.validate(full=True)
    except (pa.ArrowException, ValueError, OSError, EOFError) as exc:
        raise ValueError(
            f"the Arrow result is not a readable Arrow stream ({_first(exc)})"
        ) from None
    del raw
    if table.num_rows != rows:
        raise ValueError(f"the Arrow result has {table.num_rows} rows, its header says {rows}")
    try:
        frame = table.to_pandas(
            self_destruct=True, split_blocks=True, types_mapper=_strings_mapper(pa)
        )
    except (pa.ArrowException, ValueError, KeyError, TypeError, IndexError) as exc:
        # the stream's pandas metadata (index, dtypes) is read here too
        raise ValueError(f"the Arrow result does not make a DataFrame ({_first(exc)})") from None
    del table  # self_destruct: the table is unusable now, its buffers freed with it
    return Fetched(frame, rows, columns, nbytes, codec)


def _strings_mapper(pa: Any) -> Callable[[Any], Any] | None:
    """Arrow strings as pandas 3 keeps them by default (its ``str`` dtype, in Arrow's
    buffers); pandas 2 would make a Python object of each value, which for 10^6 rows of one
    short string column costs the kernel about 150 MB more (bench_results), so there they
    become ``string[pyarrow]``."""
    import pandas

    if int(pandas.__version__.split(".", 1)[0]) >= 3:
        return None
    dtype = pandas.StringDtype("pyarrow")
    return {pa.string(): dtype, pa.large_string(): dtype}.get


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:100]


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.ipc  # noqa: F401 - the submodule, loaded with it on old versions too
    except ImportError:
        from glue_magics.service import GlueError

        raise GlueError(
            "pyarrow is not installed in this kernel; -o and %glue_fetch need it: "
            "pip install pyarrow pandas",
            "UsageError",
        ) from None
    return pyarrow


def fetch(
    execute: Callable[[str, int], Any], code: str, fetch_max_mb: float, name: str = "result"
) -> Fetched:
    """Run ``code`` (from :func:`sql_code` or :func:`name_code`) through ``execute`` (the
    magics' statement runner, given the most stdout to read from S3) and read the result.
    Every problem is one line (``GlueError``)."""
    from glue_magics.service import GlueError

    _pyarrow()  # before the session works for nothing
    began = time.monotonic()
    outcome = execute(code, transfer_bytes(limit_bytes(fetch_max_mb)))
    text, problems = outcome.output.stdout, outcome.output.problems
    del outcome  # the statement's copy of the payload goes as soon as it is read
    try:
        got = read(text, fetch_max_mb, name)
    except ValueError as exc:
        # an output S3 could not give (over the size read, gone) says why there is none
        message = problems[0] if problems and MARKER not in text else str(exc)
        raise GlueError(message, "UsageError") from None
    got.seconds = time.monotonic() - began
    return got


def from_namespace(namespace: dict[str, Any], name: str) -> Fetched:
    """``%glue_fetch`` on a Spark Connect session, where the session's DataFrames live in
    this kernel: a Spark DataFrame comes home with ``toPandas`` (Arrow over Spark Connect,
    no cap but the server's), a pandas one is taken as it is.  One line for the rest."""
    from glue_magics.service import GlueError

    if name not in namespace:
        raise GlueError(
            f"there is no variable {name} in this notebook: on a Spark Connect session "
            "DataFrames live here; define it first, e.g. df = spark.sql('...')",
            "UsageError",
        )
    obj, began = namespace[name], time.monotonic()
    if type(obj).__name__ == "Series" and hasattr(obj, "to_frame"):
        obj = obj.to_frame()
    if type(obj).__name__ == "DataFrame" and hasattr(obj, "toPandas"):
        from pyspark.errors import PySparkException

        try:
            obj, how = obj.toPandas(), "toPandas over Spark Connect"
        except PySparkException as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise GlueError(f"{type(exc).__name__}: {first}", "SparkError") from None
    elif type(obj).__module__.startswith("pandas") and hasattr(obj, "columns"):
        how = "a pandas DataFrame already here"
    else:
        kind = f"{type(obj).__module__}.{type(obj).__name__}"
        raise GlueError(
            f"{name} is a {kind}, not a Spark or pandas DataFrame or a pandas Series",
            "UsageError",
        )
    columns = [str(c) for c in obj.columns]
    return Fetched(obj, len(obj), columns, 0, how, time.monotonic() - began)


def fetch_variable(
    manager: Any,
    namespace: dict[str, Any],
    execute: Callable[[str, int], Any],
    name: str,
    fetch_max_mb: float,
) -> Fetched:
    """``%glue_fetch NAME`` on the manager's current session: from this kernel's
    ``namespace`` on a Spark Connect session, else from the session, as a statement."""
    if manager.spark() is not None:  # Spark Connect: the DataFrame is in this kernel
        with manager.connects.interrupting(manager.session_id):
            return from_namespace(namespace, name)
    code = name_code(name, limit_bytes(fetch_max_mb))
    return fetch(execute, code, fetch_max_mb, name)
