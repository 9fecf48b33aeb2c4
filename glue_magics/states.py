"""Session and statement states, named once for the client and the local endpoint.

Only the standard library here: the endpoint reads these without the client's lifecycle.
The names are the ``SessionStatus`` and ``StatementState`` enums of the model AWS's kernel
ships (glue_pyspark/glue/2017-03-31/service-2.json), which our
``data/glue/2017-03-31/service-2.sdk-extras.json`` merges into botocore's.
"""

from __future__ import annotations

#: Every session status, in the order a session goes through them.
SESSION_STATES = ("PROVISIONING", "READY", "BUSY", "FAILED", "TIMEOUT", "STOPPING", "STOPPED")
#: Session states where stopping is finished: the session has ended and holds nothing.
#: STOPPING is not one of them.
STOPPED_STATES = frozenset({"STOPPED", "FAILED", "TIMEOUT"})
#: Session states after which a session never becomes READY: the ended ones and STOPPING.
DEAD_STATES = STOPPED_STATES | {"STOPPING"}
#: Session states of a live session, which takes statements: READY, and BUSY (a READY
#: session running a statement; ready to AWS's own Spark Connect client).
LIVE_STATES = frozenset({"READY", "BUSY"})

#: Every statement state: Livy's, then COMPLETED and FAILED, which AWS's Glue kernel also
#: handles (BaseKernel._construct_reply_content).
STATEMENT_STATES = (
    "WAITING",
    "RUNNING",
    "AVAILABLE",
    "CANCELLING",
    "CANCELLED",
    "ERROR",
    "COMPLETED",
    "FAILED",
)
#: Statement states that end a statement wait (AWS's kernel, GlueSessionsConstants.py,
#: FINAL_STATEMENT_STATUS).
STATEMENT_DONE = frozenset({"AVAILABLE", "COMPLETED", "FAILED", "ERROR", "CANCELLED"})
#: Done states in which the statement ran (its Output.Status still says whether the
#: code raised).
STATEMENT_SUCCESS = frozenset({"AVAILABLE", "COMPLETED"})
