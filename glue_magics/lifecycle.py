"""The lifecycle layer: create, wait, stop, run statements; progress through callbacks.

No IPython here: the magics pass ``on_update`` callbacks that hand a small view
(:class:`SessionView`, :class:`StatementView`) to the display layer.  When to poll and
the wait loop itself are :mod:`glue_magics.polling`'s.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from glue_magics.polling import (
    SESSION_PLAN,
    STATEMENT_PATIENCE,
    STATEMENT_PLAN,
    STOP_PLAN,
    _failed_delay,
    _wait,
    round_trip,
    statement_in_flight,
)
from glue_magics.service import GlueError, call
from glue_magics.states import (
    DEAD_STATES,
    LIVE_STATES,
    SESSION_STATES,
    STATEMENT_DONE,
    STATEMENT_SUCCESS,
    STOPPED_STATES,
)
from glue_magics.steps import Action, NextStep, steps_for

T = TypeVar("T")


class SessionFailed(GlueError):
    """The session reached a state from which it will never become READY."""


class StatementCancelled(GlueError):
    """A statement was cancelled because the user interrupted it."""


# --------------------------------------------------------------------------- views


@dataclass
class SessionView:
    """What the display needs about a session, derived from a (possibly partial) GetSession."""

    id: str
    status: str
    progress: float  # 0-100
    elapsed: float  # seconds since the wait began
    error_message: str | None
    raw: dict = field(repr=False)

    @classmethod
    def from_session(cls, session: dict, elapsed: float) -> SessionView:
        """Build a view; a live session is always 100 % and only dead ones carry an error."""
        status = str(session.get("Status") or "PROVISIONING")
        progress = _number(session.get("Progress"), 0.0, 100.0)
        if status in LIVE_STATES:
            progress = 100.0
        error = session.get("ErrorMessage") if status in DEAD_STATES else None
        return cls(
            id=str(session.get("Id", "")),
            status=status,
            progress=progress,
            elapsed=elapsed,
            error_message=error or None,
            raw=session,
        )


@dataclass
class StatementView:
    """What the display needs about a running statement."""

    id: int
    state: str
    progress: float  # 0-1
    elapsed: float
    raw: dict = field(repr=False)

    @classmethod
    def from_statement(cls, statement: dict, elapsed: float) -> StatementView:
        """Build a view; finished statements are always at 100 %."""
        state = str(statement.get("State") or "WAITING")
        progress = (
            1.0 if state in STATEMENT_SUCCESS else _number(statement.get("Progress"), 0.0, 1.0)
        )
        return cls(
            id=int(statement.get("Id", -1)),
            state=state,
            progress=progress,
            elapsed=elapsed,
            raw=statement,
        )


def _number(value: Any, low: float, high: float) -> float:
    """A finite float clamped to [low, high]; missing or junk values give ``low``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return low
    if not math.isfinite(number):
        return low
    return min(high, max(low, number))


# --------------------------------------------------------------------------- sessions


def get_session(client: Any, session_id: str) -> dict:
    """GetSession's ``Session`` dict."""
    return call(client, "GetSession", Id=session_id).get("Session") or {"Id": session_id}


def create_session(client: Any, request: dict, patience: float | None = None) -> dict:
    """CreateSession, without ever making two sessions for one request.

    botocore retries a CreateSession whose response was lost, and the retry is answered
    AlreadyExistsException for our own Id: then (and when a response carries no
    ``Session``, as some implementations do) we GetSession and carry on with it.  When
    botocore's retries run out, it is asked again for up to ``patience`` seconds
    (:data:`CREATE_PATIENCE`), and after an answer that may have been lost, a GetSession
    finds the session if the create took.
    """
    session_id = request.get("Id", "")

    def landed() -> dict | None:
        """After an answer that may have been lost: the session, if the create took."""
        try:
            session = get_session(client, session_id)
        except GlueError:
            return None
        return {"Session": session} if _same_request(session, request) else None

    try:
        response = _again_while_transient(
            lambda: call(client, "CreateSession", **request),
            # the Id is what makes a retry safe
            (CREATE_PATIENCE if patience is None else patience) if session_id else 0.0,
            landed=landed if session_id else None,
        )
    except GlueError as exc:
        if exc.code != "AlreadyExistsException" or not session_id:
            raise
        session = get_session(client, session_id)
        if not _same_request(session, request):
            raise
        return session
    session = response.get("Session")
    if not session or not session.get("Status"):
        session = get_session(client, session_id)
    return session


#: How long a CreateSession (with our own Id) is asked again after botocore's retries
#: ran out on throttling, 5xx or a lost connection; a refused connection is not retried.
CREATE_PATIENCE = 30.0


def _again_while_transient(
    attempt: Callable[[], T],
    patience: float,
    landed: Callable[[], T | None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``attempt()``, made again (backing off) while it fails with a transient GlueError
    after a connection was made, for up to ``patience`` seconds.  Only for calls that are
    safe to repeat: CreateSession with an Id, StopSession.  ``landed()``, asked after a
    failure the service may have acted on (not throttling), answers in the attempt's place
    when the attempt did take effect, so a lost answer costs one look, not the patience."""
    from glue_magics.service import THROTTLING_CODES

    start = clock()
    failures = 0
    while True:
        try:
            return attempt()
        except GlueError as exc:
            if landed is not None and exc.transient and exc.code not in THROTTLING_CODES:
                answer = landed()
                if answer is not None:
                    return answer
            failures += 1
            delay = _failed_delay(failures)
            if not (exc.transient and exc.connected) or clock() + delay - start > patience:
                raise
            sleep(delay)


def _same_request(session: dict, request: dict) -> bool:
    """Whether an existing session plausibly came from ``request`` (same Role and Command)."""
    for key in ("Role", "Command"):
        have, want = session.get(key), request.get(key)
        if have is None or want is None:
            continue
        if key == "Command":
            have, want = have.get("Name"), want.get("Name")
        if have != want:
            return False
    return True


def _session_ticks(
    on_update: Callable[[SessionView], None] | None,
) -> Callable[[dict, float], None] | None:
    """Adapt a SessionView callback to the raw (session, elapsed) ticks of ``_wait``."""
    if on_update is None:
        return None
    return lambda session, elapsed: on_update(SessionView.from_session(session, elapsed))


def wait_ready(
    client: Any,
    session_id: str,
    on_update: Callable[[SessionView], None] | None = None,
    timeout: float = 600.0,
    tick: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Poll GetSession until the session is live (READY or BUSY) and return it.

    Raises :class:`SessionFailed` when the session dies on the way, and a
    :class:`GlueError` naming the id and how to go on when ``timeout`` passes first.
    """
    tick_cb = _session_ticks(on_update)
    try:
        session, _ = _wait(
            lambda: get_session(client, session_id),
            lambda s: s.get("Status") in LIVE_STATES | DEAD_STATES,
            SESSION_PLAN,
            progress=lambda s: _progress_or_none(s.get("Progress")),
            on_tick=tick_cb,
            timeout=timeout,
            tick=tick,
            rtt=round_trip(client),
            clock=clock,
            sleep=sleep,
        )
    except GlueError as exc:
        if not exc.transient:
            raise
        # Glue stopped answering until the deadline: say what was known, and that the
        # session may well be alive (it is not forgotten, nor said to be gone).
        last = getattr(exc, "last_item", None) or {}
        known = last.get("Status")
        was = f"was {known} at Glue's last answer" if known else "has not been seen yet"
        raise GlueError(
            f"session {session_id} {was}, and for {timeout:g} s Glue answered only with "
            f"errors ({exc.code}); it may still be starting",
            code="WaitTimeout",
            status=known or "PROVISIONING",
            next_steps=steps_for((Action.WAIT, Action.STOP), session_id),
        ) from None
    status = session.get("Status")
    if status in LIVE_STATES:
        return session
    if status in DEAD_STATES:
        reason = session.get("ErrorMessage")
        because = f": {reason}" if reason else ""
        why = {
            "FAILED": "check the role, network and options",
            "TIMEOUT": "it ran past its timeout",
        }.get(status, "it was stopped")
        raise SessionFailed(
            f"session {session_id} is {status}{because}; {why}",
            code=status,
            status=status,
            session_ended=True,
            next_steps=(NextStep(Action.CREATE),),
        )
    raise GlueError(
        f"session {session_id} is still {status or 'PROVISIONING'} after {timeout:g} s",
        code="WaitTimeout",
        status=status or "PROVISIONING",
        next_steps=steps_for((Action.WAIT, Action.STOP), session_id),
    )


def _progress_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def stop_session(
    client: Any,
    session_id: str,
    wait: float = 30.0,
    on_update: Callable[[SessionView], None] | None = None,
) -> str:
    """StopSession, then wait up to ``wait`` s for STOPPED; returns the final status.

    A session that is already stopped, failed, timed out or gone is not an error: its
    status (or ``"NOT_FOUND"``) is returned.  One that stays STOPPING returns
    ``"STOPPING"`` for the caller to report.
    """
    try:
        _again_while_transient(lambda: call(client, "StopSession", Id=session_id), max(wait, 5.0))
    except GlueError as exc:
        if exc.code == "EntityNotFoundException":
            return "NOT_FOUND"
        if exc.code not in ("IllegalSessionStateException", "InvalidInputException"):
            raise
        try:
            status = get_session(client, session_id).get("Status", "UNKNOWN")
        except GlueError as again:
            if again.code == "EntityNotFoundException":
                return "NOT_FOUND"
            raise
        if status not in DEAD_STATES:  # stopped, or already stopping
            raise exc from None  # refused for another reason: the service's message says why
    tick_cb = _session_ticks(on_update)

    def fetch() -> dict:
        try:
            return get_session(client, session_id)
        except GlueError as exc:
            if exc.code == "EntityNotFoundException":  # deleted on stop
                return {"Id": session_id, "Status": "STOPPED"}
            raise

    try:
        session, _ = _wait(
            fetch,
            lambda s: s.get("Status") in STOPPED_STATES,
            STOP_PLAN,
            on_tick=tick_cb,
            timeout=wait,
        )
    except GlueError as exc:
        if not exc.transient:
            raise
        return "STOPPING"  # StopSession was accepted; Glue did not answer since
    return str(session.get("Status") or "UNKNOWN")


def pages(client: Any, operation: str, **kwargs: Any) -> Iterator[dict]:
    """Every page of a listing call, following NextToken (Glue's model has no paginators for
    these); a token seen before ends it, so a server repeating one cannot loop us forever."""
    seen: set[str] = set()
    while True:
        page = call(client, operation, **kwargs)
        yield page
        token = page.get("NextToken") or None
        if not token or token in seen:
            return
        seen.add(token)
        kwargs["NextToken"] = token


def list_sessions(
    client: Any, page_size: int | None = None, tags: dict[str, str] | None = None
) -> list[dict]:
    """Every session (those carrying all of ``tags``, when given), over all pages."""
    kwargs: dict[str, Any] = {"MaxResults": page_size} if page_size else {}
    if tags:
        kwargs["Tags"] = tags
    sessions: list[dict] = []
    for page in pages(client, "ListSessions", **kwargs):
        sessions.extend(page.get("Sessions") or [])
        if not page.get("Sessions") and page.get("Ids"):
            sessions.extend({"Id": sid} for sid in page["Ids"])
    return sessions


def list_statements(client: Any, session_id: str) -> list[dict]:
    """Every statement of a session, over all pages."""
    listed = pages(client, "ListStatements", SessionId=session_id)
    return [statement for page in listed for statement in page.get("Statements") or []]


# --------------------------------------------------------------------------- statements


def get_statement(client: Any, session_id: str, statement_id: int) -> dict:
    """GetStatement's ``Statement`` dict."""
    response = call(client, "GetStatement", SessionId=session_id, Id=statement_id)
    return response.get("Statement") or {"Id": statement_id}


#: How long RunStatement is tried again after botocore's retries ran out on throttling,
#: 5xx or a lost connection.
RUN_PATIENCE = 60.0


def start_statement(
    client: Any,
    session_id: str,
    code: str,
    patience: float = RUN_PATIENCE,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """RunStatement, at most once in effect: its Id.

    RunStatement has no idempotency token.  When botocore's retries run out, a throttled
    request (nothing was done) or one that never connected is sent again; one that may have
    reached the service (5xx, connection lost after sending) is first looked for with
    ListStatements (same Code, started since), and adopted if found, so a cell never runs
    twice because of our retry.  Gives up after ``patience`` seconds.
    """
    from glue_magics.service import THROTTLING_CODES

    start = clock()
    failures = 0
    maybe_sent: float | None = None  # epoch ms of the first attempt that may have landed
    while True:
        unknown = False
        if maybe_sent is not None:
            try:
                found = _find_statement(client, session_id, code, maybe_sent)
            except GlueError as exc:
                if not exc.transient:
                    raise
                found, unknown = None, True
            if found is not None:
                return found
        if not unknown:  # never send again while we cannot tell whether it landed
            sent = time.time() * 1000
            try:
                return int(call(client, "RunStatement", SessionId=session_id, Code=code)["Id"])
            except GlueError as exc:
                if not exc.transient:
                    raise
                if exc.connected and exc.code not in THROTTLING_CODES and maybe_sent is None:
                    maybe_sent = sent
                error = exc
        failures += 1
        delay = _failed_delay(failures)
        if clock() + delay - start > patience:
            raise error
        sleep(delay)


def statement_time(value: Any) -> float | None:
    """A statement's ``StartedOn``/``CompletedOn`` as epoch seconds: the model types them
    ``long``, and Glue (as Livy) sends milliseconds; a value too small for that is seconds."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return value / 1000 if value >= 1e11 else float(value)


def _find_statement(client: Any, session_id: str, code: str, since_ms: float) -> int | None:
    """The newest statement running ``code`` that started (or waits) since ``since_ms``."""
    best: int | None = None
    for statement in list_statements(client, session_id):
        if statement.get("Code") != code:
            continue
        started = statement_time(statement.get("StartedOn"))
        recent = started is None or started * 1000 >= since_ms - 5000
        if recent and (best is None or int(statement.get("Id", -1)) > best):
            best = int(statement["Id"])
    return best


def run_statement(
    client: Any,
    session_id: str,
    code: str,
    on_update: Callable[[StatementView], None] | None = None,
    cancel_wait: float = 10.0,
) -> dict:
    """Run ``code`` in the session and return the final statement dict.

    No GetSession per statement: a dead session surfaces as the statement call's own
    error, which is then explained (one GetSession, only on that path).  A
    KeyboardInterrupt cancels the statement and raises :class:`StatementCancelled`.
    """
    rtt = round_trip(client)
    sent = time.monotonic()
    sent_ms = time.time() * 1000
    try:
        statement_id = start_statement(client, session_id, code)
    except GlueError as exc:
        raise _explain_statement_error(client, session_id, exc) from None
    except KeyboardInterrupt:
        # Ctrl-C during RunStatement: the request may have landed; a statement found
        # running our code since we sent it is cancelled, so nothing runs unseen
        raise _cancel_unanswered(client, session_id, code, sent_ms, cancel_wait) from None
    got = time.monotonic()
    rtt.add(got - sent)

    tick_cb = None
    if on_update is not None:

        def tick_cb(statement: dict, elapsed: float) -> None:
            on_update(StatementView.from_statement(statement, elapsed))

    try:
        statement, _ = _wait(
            lambda: get_statement(client, session_id, statement_id),
            lambda s: s.get("State") in STATEMENT_DONE,
            STATEMENT_PLAN,
            progress=lambda s: _progress_or_none(s.get("Progress")),
            on_tick=tick_cb,
            timeout=math.inf,
            patience=STATEMENT_PATIENCE,
            rtt=rtt,
            start=got - rtt.seconds / 2,  # when RunStatement (its last try) reached Glue
            first_on_plan=True,
            in_flight=statement_in_flight(rtt),
        )
    except KeyboardInterrupt:
        raise _cancel(client, session_id, statement_id, cancel_wait, tick_cb) from None
    except GlueError as exc:
        if exc.transient:
            raise GlueError(
                f"statement {statement_id} in session {session_id}: for {STATEMENT_PATIENCE:g} s "
                f"Glue answered only with errors ({exc.code}); it may still be running",
                code="StatementUnknown",
                next_steps=(NextStep(Action.RERUN),),
            ) from None
        raise _explain_statement_error(client, session_id, exc) from None
    return statement


#: How long a statement sent just before a Ctrl-C is looked for: the request may still be on
#: its way (it travels about half a round trip) when the interrupt lands.
UNANSWERED_LOOK = 2.0


def _cancel_unanswered(
    client: Any, session_id: str, code: str, sent_ms: float, cancel_wait: float
) -> StatementCancelled:
    """Ctrl-C before RunStatement answered: cancel the statement if Glue has it (found by
    ListStatements, as ``start_statement`` finds one after a lost answer), else say that
    nothing ran.  RunStatement has no idempotency token, so this is the only way to know."""
    deadline = time.monotonic() + UNANSWERED_LOOK
    try:
        while True:
            found = _find_statement(client, session_id, code, sent_ms)
            if found is not None:
                return _cancel(client, session_id, found, cancel_wait, None)
            if time.monotonic() >= deadline:
                return StatementCancelled(
                    f"interrupted before session {session_id} took the statement; "
                    f"Glue shows it nowhere after {UNANSWERED_LOOK:g} s, so it did not run",
                    code="NotSent",
                )
            time.sleep(0.2)
    except GlueError as exc:
        return StatementCancelled(
            f"interrupted while session {session_id} was taking the statement, and it could "
            f"not be looked for ({exc.message}); it may be running",
            code="CancelFailed",
            next_steps=(NextStep(Action.STATUS),),
        )


def _cancel(
    client: Any,
    session_id: str,
    statement_id: int,
    cancel_wait: float,
    tick_cb: Callable[[dict, float], None] | None,
) -> StatementCancelled:
    """CancelStatement and wait (bounded) for CANCELLED; the error to raise says how it went."""
    what = f"statement {statement_id} in session {session_id}"
    try:
        call(client, "CancelStatement", SessionId=session_id, Id=statement_id)
        statement, done = _wait(
            lambda: get_statement(client, session_id, statement_id),
            lambda s: s.get("State") in STATEMENT_DONE,
            STATEMENT_PLAN,
            on_tick=tick_cb,
            timeout=cancel_wait,
        )
    except GlueError as exc:
        return StatementCancelled(
            f"{what} was interrupted but the cancel failed ({exc.message}); "
            "it may still be running",
            code="CancelFailed",
            next_steps=(NextStep(Action.STATUS),),
        )
    state = statement.get("State")
    if state == "CANCELLED":
        return StatementCancelled(f"{what} was cancelled", code="CANCELLED")
    if done:
        return StatementCancelled(
            f"{what} was interrupted but had already finished ({state}) before the cancel",
            code=str(state),
        )
    return StatementCancelled(
        f"{what} was interrupted; the cancel did not finish within {cancel_wait:g} s "
        f"(still {state or 'CANCELLING'}); it may still be running",
        code="CancelPending",
        next_steps=(NextStep(Action.STATUS),),
    )


_STATE_IN_MESSAGE = re.compile(r"\b(" + "|".join(SESSION_STATES) + r")\b")


def _explain_statement_error(client: Any, session_id: str, exc: GlueError) -> GlueError:
    """A statement call failed: if it is because the session is not live, say so plainly."""
    if exc.code not in (
        "InvalidInputException",
        "IllegalSessionStateException",
        "EntityNotFoundException",
        "ResourceNotReadyException",
    ):
        return exc
    text = exc.message.replace(session_id, " ").split(":", 1)[-1].upper()
    match = _STATE_IN_MESSAGE.search(text)
    state = match.group(1) if match else None
    if state is None or state in LIVE_STATES:
        try:
            state = get_session(client, session_id).get("Status")
        except GlueError as again:
            if again.code != "EntityNotFoundException":
                return exc
            return GlueError(
                f"session {session_id} does not exist (any more)",
                code="SessionNotFound",
                status="NOT_FOUND",
                session_ended=True,
                next_steps=(NextStep(Action.CREATE),),
            )
    if state in LIVE_STATES or not state:
        return exc
    if state == "PROVISIONING":
        return GlueError(
            f"session {session_id} is still PROVISIONING",
            code="SessionNotReady",
            status=state,
            next_steps=(NextStep(Action.WAIT, session_id),),
        )
    return GlueError(
        f"session {session_id} is {state} and cannot run code",
        code="SessionNotReady",
        status=state,
        session_ended=True,
        next_steps=(NextStep(Action.CREATE),),
    )
