"""The errors the local endpoint answers, as the service would.

Named apart from the client's ``glue_magics.service.GlueError`` (message first, what a user
reads): these are what goes on the wire, code first, as moto's ``JsonRESTError(error_type,
message)`` and the service's ``{"__type": code, "message": message}`` body have it.  The
backend raises the named ones (moto's ``glue/exceptions.py`` has the same few), so the
code of each answer is written once, where its class is.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An error the service would answer: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def wire(self) -> dict[str, str]:
        """The JSON body the service sends for it (AWS JSON 1.1: ``__type`` and message)."""
        return {"__type": self.code, "message": self.message}


class InvalidInput(ServiceError):
    """A request the model allows that the service refuses (a rule no shape states)."""

    def __init__(self, message: str) -> None:
        super().__init__("InvalidInputException", message)


class ResourceNumberLimitExceeded(ServiceError):
    """More than there is room for: CreateSession's ResourceNumberLimitExceededException
    (botocore's Glue model lists it for CreateSession: "A resource numerical limit was
    exceeded"), the service's answer to a request beyond the account's quotas."""

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNumberLimitExceededException", message)


class IllegalSessionState(ServiceError):
    """A session in a state the operation cannot act on (GetSessionEndpoint before READY).

    sagemaker-studio's Glue interceptor reads this code, with EntityNotFoundException, as
    "session gone or not in ready state" (``utils/spark/session/glue/interceptors.py``)."""

    def __init__(self, message: str) -> None:
        super().__init__("IllegalSessionStateException", message)


class OperationNotSupported(ServiceError):
    """What the model documents as "The operation is not available in the region"."""

    def __init__(self, message: str) -> None:
        super().__init__("OperationNotSupportedException", message)


class EntityNotFound(ServiceError):
    """A session, statement or tagged resource that does not exist (or no longer does)."""

    def __init__(self, message: str) -> None:
        super().__init__("EntityNotFoundException", message)


class SessionNotFound(EntityNotFound):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"Session {session_id} not found")


class AlreadyExists(ServiceError):
    """CreateSession with the Id of a session that exists, asked the same way again.

    A retried CreateSession whose first answer was lost meets this (the service's
    idempotency is by Id and parameters)."""

    def __init__(self, session_id: str) -> None:
        super().__init__("AlreadyExistsException", f"Session {session_id} already exists")


class IdempotentParameterMismatch(ServiceError):
    """CreateSession with the Id of a session that exists, asked another way."""

    def __init__(self, session_id: str) -> None:
        super().__init__(
            "IdempotentParameterMismatchException",
            f"Session {session_id} already exists with different parameters",
        )


class EntityExists(ServiceError):
    """A database, table or partition of a name that is taken (AlreadyExistsException).

    The service's words, as recorded replies and moto have them: "Table already exists."."""

    def __init__(self, what: str) -> None:
        super().__init__("AlreadyExistsException", f"{what} already exists.")


class InternalService(ServiceError):
    """The service's own failure (HTTP 500), which botocore's standard retries retry."""

    def __init__(self, message: str) -> None:
        super().__init__("InternalServiceException", message, status=500)
