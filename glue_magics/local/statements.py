"""Statements of LIVY sessions: run, get, list, cancel, under the backend's lock.

A Spark Connect session takes none (the docs: "Statement APIs ... are not supported for
Spark Connect sessions"); a cancelled statement that ignores SIGINT has its worker killed
after ``cancel_grace_seconds`` and its session FAILED.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from glue_magics.local import paging
from glue_magics.local.exceptions import EntityNotFound, InvalidInput
from glue_magics.local.models import Session, Statement
from glue_magics.local.outputs import ended_output
from glue_magics.local.workers import WorkerProcess

#: Statements to hand to workers once the lock is released (a full pipe must not stall
#: every request).
Sends = list[tuple[WorkerProcess, Statement]]


def send(sends: Sends) -> None:
    """Hand each statement to its worker (outside the lock)."""
    for worker, statement in sends:
        worker.send(statement.id, statement.code)


class Statements:
    """The statement operations of a :class:`~glue_magics.local.backend.Backend`."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend  # the layer above: its lock, sessions, pump and end

    def _session(self, session_id: str, operation: str) -> Session:
        """The session named, if it takes statements (under the lock).

        "Statement APIs (RunStatement, CancelStatement, GetStatement, and ListStatements)
        are not supported for Spark Connect sessions" (interactive-sessions-spark-connect).
        The service's error for it is not public: InvalidInputException, which all four
        operations list, is our choice."""
        session = self.backend._get(session_id)
        if session.connect is not None:
            raise InvalidInput(
                f"Session {session.id} is a SPARK_CONNECT session; {operation} is not "
                "supported for it (statements are for LIVY sessions): connect with "
                "GetSessionEndpoint and pyspark's Spark Connect client"
            )
        return session

    def run(self, session_id: str, code: str) -> int:
        """Queue ``code`` in a READY session; the statement's Id."""
        with self.backend.lock:
            self._session(session_id, "RunStatement")
            session = self.backend._ready(session_id, "statements need a READY session")
            statement = Statement(id=session.next_statement, code=code)
            session.next_statement += 1
            session.statements[statement.id] = statement
            session.queue.append(statement.id)
            session.last_activity = time.time()
            sends = self.backend.pump(session)
        send(sends)
        return statement.id

    def _statement(
        self, session_id: str, statement_id: int, operation: str
    ) -> tuple[Session, Statement]:
        session = self._session(session_id, operation)
        statement = session.statements.get(statement_id)
        if statement is None:
            raise EntityNotFound(f"Statement {statement_id} not found in session {session.id}")
        return session, statement

    def get(self, session_id: str, statement_id: int) -> dict[str, Any]:
        with self.backend.lock:
            return self._statement(session_id, statement_id, "GetStatement")[1].to_wire()

    def list(self, session_id: str, next_token: str | None) -> tuple[list[dict[str, Any]], str]:
        after = paging.after(next_token)
        with self.backend.lock:
            session = self._session(session_id, "ListStatements")
            statements = list(session.statements.values())
            page, token = paging.page(statements, lambda s: s.id, after, paging.STATEMENT_PAGE)
            return [s.to_wire() for s in page], token

    def cancel(self, session_id: str, statement_id: int) -> None:
        """A waiting statement is CANCELLED now; a running one CANCELLING until its worker
        takes the interrupt (or is killed for ignoring it)."""
        with self.backend.lock:
            session, statement = self._statement(session_id, statement_id, "CancelStatement")
            if statement.state == "WAITING":
                session.queue.remove(statement.id)
                statement.finish("CANCELLED", time.time())
            elif statement.state == "RUNNING":
                statement.state = "CANCELLING"
                threading.Thread(
                    target=self._interrupt_until_done, args=(session, statement), daemon=True
                ).start()

    def _interrupt_until_done(self, session: Session, statement: Statement) -> None:
        """SIGINT the worker, again every 0.2 s while the statement is CANCELLING.

        The worker takes SIGINT only while a statement executes, so a cancel that lands
        after the statement was sent but before it started would otherwise be lost and end
        in the kill below.  The worker holds at most this one statement, so a repeat cannot
        reach another.
        """
        grace = self.backend.settings.cancel_grace_seconds
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            with self.backend.lock:
                if statement.state != "CANCELLING" or session.ended_status is not None:
                    return
                if session.worker is not None:
                    session.worker.interrupt()
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        # It ignored SIGINT (stuck in C code): end the worker, so a cancel never hangs; the
        # session's state is gone, so it is FAILED.
        with self.backend.lock:
            if statement.state != "CANCELLING" or session.ended_status is not None:
                return
            if statement.finishing:  # it finished; its result is on the way to S3
                return
            statement.output = ended_output(
                "Cancelled", f"statement {statement.id} ignored the interrupt and was killed"
            )
            self.backend.end(
                session,
                "FAILED",
                time.time(),
                f"Statement {statement.id} did not stop within {grace:g} s of "
                "CancelStatement; its process was killed",
            )
