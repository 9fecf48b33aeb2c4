"""The error the local endpoint answers, as the service would.

Named apart from the client's ``glue_magics.service.GlueError`` (message first, what a user
reads): this one is what goes on the wire, code first, as moto's ``JsonRESTError(error_type,
message)`` and the service's ``{"__type": code, "message": message}`` body have it.
"""

from __future__ import annotations


class ServiceError(Exception):
    """An error the service would answer: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
