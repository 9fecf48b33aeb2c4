"""The local endpoint's operations: request body in, reply body out, as Glue does them.

For each operation: decode the JSON body, validate it against botocore's model of the
operation's input (:mod:`glue_magics.local.validation`), unpack it into typed arguments,
call the backend, and put what it returns into the reply's shape.  moto's
``glue/responses.py`` is the model of the split; the HTTP around it is the server's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from glue_magics.local import validation
from glue_magics.local.backend import Backend
from glue_magics.local.catalog import Catalog
from glue_magics.local.exceptions import InvalidInput, ServiceError
from glue_magics.local.jobs.backend import JobsBackend
from glue_magics.local.jobs.responses import JobResponses
from glue_magics.local.logs import LogLinks
from glue_magics.local.models import SessionRequest

Body = dict[str, Any]


def _finite(text: str) -> float:
    """json's parse_float that refuses what JSON has no spelling for (1e999 is inf)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def decode(raw: bytes) -> Any:
    """The request body as JSON (an empty body is ``{}``), or SerializationException."""
    try:
        text = raw.decode("utf-8", "surrogatepass")
        if not text.strip():
            return {}
        return json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # RecursionError: [[[[... nested too deep
        reason = " ".join(str(exc).split())[:200]
        message = f"Request body is not JSON: {reason}"
        raise ServiceError("SerializationException", message) from None


def _paged(key: str, items: list[dict[str, Any]], token: str) -> Body:
    out: Body = {key: items}
    if token:
        out["NextToken"] = token
    return out


class Responses:
    """One method per operation, each taking the validated body."""

    def __init__(self, backend: Backend, links: LogLinks, jobs: JobsBackend) -> None:
        self.backend = backend
        self.links = links
        self.jobs = jobs
        self.catalog = Catalog(backend.settings.catalog_root, backend.settings.account_id)
        self.operations: dict[str, Callable[[Body], Body]] = {
            "CreateSession": self.create_session,
            "GetSession": self.get_session,
            "ListSessions": self.list_sessions,
            "StopSession": self.stop_session,
            "DeleteSession": self.delete_session,
            "GetSessionEndpoint": self.get_session_endpoint,
            "RunStatement": self.run_statement,
            "GetStatement": self.get_statement,
            "ListStatements": self.list_statements,
            "CancelStatement": self.cancel_statement,
            "GetSystemLogsForSession": self.get_system_logs_for_session,
            "GetDashboardUrl": self.get_dashboard_url,
            "GetTags": self.get_tags,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            **JobResponses(jobs).operations,
            **self._catalog_operations(),
        }

    def answer(self, operation: str, raw: bytes) -> Body:
        """The reply to one request body of ``operation`` (one of :attr:`operations`), or
        the ServiceError the service would send."""
        handler = self.operations[operation]
        body = decode(raw)
        from glue_magics import model

        shape = model.operation(operation).input_shape
        problem = validation.summary(validation.problems(body, shape))
        if problem is not None:
            raise problem
        return handler(body)

    # ----------------------------------------------------------------- sessions
    def create_session(self, body: Body) -> Body:
        return {"Session": self.backend.create_session(SessionRequest.from_body(body))}

    def get_session(self, body: Body) -> Body:
        return {"Session": self.backend.get_session(body["Id"])}

    def list_sessions(self, body: Body) -> Body:
        sessions, token = self.backend.list_sessions(
            tags=body.get("Tags") or {},
            next_token=body.get("NextToken"),
            max_results=body.get("MaxResults"),
        )
        out = {"Ids": [session["Id"] for session in sessions]}
        return {**out, **_paged("Sessions", sessions, token)}

    def stop_session(self, body: Body) -> Body:
        self.backend.stop_session(body["Id"])
        return {"Id": body["Id"]}

    def delete_session(self, body: Body) -> Body:
        self.backend.delete_session(body["Id"])
        return {"Id": body["Id"]}

    def get_session_endpoint(self, body: Body) -> Body:
        return {"SparkConnect": self.backend.get_session_endpoint(body["SessionId"])}

    # ----------------------------------------------------------------- statements
    def run_statement(self, body: Body) -> Body:
        return {"Id": self.backend.statements.run(body["SessionId"], body["Code"])}

    def get_statement(self, body: Body) -> Body:
        return {"Statement": self.backend.statements.get(body["SessionId"], body["Id"])}

    def list_statements(self, body: Body) -> Body:
        statements, token = self.backend.statements.list(
            body["SessionId"], next_token=body.get("NextToken")
        )
        return _paged("Statements", statements, token)

    def cancel_statement(self, body: Body) -> Body:
        self.backend.statements.cancel(body["SessionId"], body["Id"])
        return {}

    # ----------------------------------------------------------------- looking inside
    def get_system_logs_for_session(self, body: Body) -> Body:
        return {"SystemLogsUrl": self.links.url(body["Id"])}

    def get_dashboard_url(self, body: Body) -> Body:
        return {"Url": self.backend.dashboard_url(body["ResourceId"], body["ResourceType"])}

    # ----------------------------------------------------------------- tags
    def get_tags(self, body: Body) -> Body:
        job = self.jobs.job_name_of(body["ResourceArn"])
        if job is not None:
            return {"Tags": self.jobs.tags(job)}
        return {"Tags": self.backend.get_tags(body["ResourceArn"])}

    def tag_resource(self, body: Body) -> Body:
        job = self.jobs.job_name_of(body["ResourceArn"])
        if job is not None:
            self.jobs.tag(job, body["TagsToAdd"])
        else:
            self.backend.tag_resource(body["ResourceArn"], body["TagsToAdd"])
        return {}

    def untag_resource(self, body: Body) -> Body:
        job = self.jobs.job_name_of(body["ResourceArn"])
        if job is not None:
            self.jobs.tag(job, {}, body["TagsToRemove"])
        else:
            self.backend.untag_resource(body["ResourceArn"], body["TagsToRemove"])
        return {}

    # ----------------------------------------------------------------- the Data Catalog
    def _catalog_operations(self) -> dict[str, Callable[[Body], Body]]:
        return {
            "CreateDatabase": self.create_database,
            "GetDatabase": self.get_database,
            "GetDatabases": self.get_databases,
            "UpdateDatabase": self.update_database,
            "DeleteDatabase": self.delete_database,
            "CreateTable": self.create_table,
            "GetTable": self.get_table,
            "GetTables": self.get_tables,
            "UpdateTable": self.update_table,
            "DeleteTable": self.delete_table,
            "GetTableVersions": self.get_table_versions,
            "GetTableVersion": self.get_table_version,
            "BatchDeleteTable": self.batch_delete_table,
            "UpdatePartition": self.update_partition,
            "BatchUpdatePartition": self.batch_update_partition,
            "CreatePartition": self.create_partition,
            "BatchCreatePartition": self.batch_create_partition,
            "GetPartition": self.get_partition,
            "GetPartitions": self.get_partitions,
            "BatchGetPartition": self.batch_get_partition,
            "DeletePartition": self.delete_partition,
            "BatchDeletePartition": self.batch_delete_partition,
        }

    def create_database(self, body: Body) -> Body:
        self.catalog.create_database(body["DatabaseInput"])
        return {}

    def get_database(self, body: Body) -> Body:
        return {"Database": self.catalog.get_database(body["Name"])}

    def get_databases(self, body: Body) -> Body:
        databases, token = self.catalog.get_databases(
            body.get("NextToken"), body.get("MaxResults"), body.get("AttributesToGet")
        )
        return _paged("DatabaseList", databases, token)

    def update_database(self, body: Body) -> Body:
        self.catalog.update_database(body["Name"], body["DatabaseInput"])
        return {}

    def delete_database(self, body: Body) -> Body:
        self.catalog.delete_database(body["Name"])
        return {}

    @staticmethod
    def _table_input(body: Body, operation: str) -> Body:
        """TableInput with the table's name: the model makes neither member required (the
        newer ``Name`` may stand for ``TableInput.Name``), but a table needs both."""
        table_input = body.get("TableInput")
        if table_input is None:
            raise InvalidInput(
                f"{operation} needs a TableInput here (open table formats are not served)"
            )
        return {**table_input, "Name": body.get("Name") or table_input["Name"]}

    def create_table(self, body: Body) -> Body:
        self.catalog.create_table(body["DatabaseName"], self._table_input(body, "CreateTable"))
        return {}

    def get_table(self, body: Body) -> Body:
        return {"Table": self.catalog.get_table(body["DatabaseName"], body["Name"])}

    def get_tables(self, body: Body) -> Body:
        tables, token = self.catalog.get_tables(
            body["DatabaseName"],
            body.get("Expression"),
            body.get("NextToken"),
            body.get("MaxResults"),
            body.get("AttributesToGet"),
        )
        return _paged("TableList", tables, token)

    def update_table(self, body: Body) -> Body:
        table_input = self._table_input(body, "UpdateTable")
        self.catalog.update_table(body["DatabaseName"], table_input, bool(body.get("SkipArchive")))
        return {}

    def delete_table(self, body: Body) -> Body:
        self.catalog.delete_table(body["DatabaseName"], body["Name"])
        return {}

    def get_table_versions(self, body: Body) -> Body:
        versions, token = self.catalog.get_table_versions(
            body["DatabaseName"], body["TableName"], body.get("NextToken"), body.get("MaxResults")
        )
        return _paged("TableVersions", versions, token)

    def get_table_version(self, body: Body) -> Body:
        version = self.catalog.get_table_version(
            body["DatabaseName"], body["TableName"], body.get("VersionId")
        )
        return {"TableVersion": version}

    def batch_delete_table(self, body: Body) -> Body:
        errors = self.catalog.batch_delete_table(body["DatabaseName"], body["TablesToDelete"])
        return {"Errors": errors} if errors else {}

    def update_partition(self, body: Body) -> Body:
        self.catalog.update_partition(
            body["DatabaseName"],
            body["TableName"],
            body["PartitionValueList"],
            body["PartitionInput"],
        )
        return {}

    def batch_update_partition(self, body: Body) -> Body:
        entries = [(e["PartitionValueList"], e["PartitionInput"]) for e in body["Entries"]]
        errors = self.catalog.batch_update_partition(
            body["DatabaseName"], body["TableName"], entries
        )
        return {"Errors": errors} if errors else {}

    def create_partition(self, body: Body) -> Body:
        self.catalog.create_partition(
            body["DatabaseName"], body["TableName"], body["PartitionInput"]
        )
        return {}

    def batch_create_partition(self, body: Body) -> Body:
        errors = self.catalog.batch_create_partition(
            body["DatabaseName"], body["TableName"], body["PartitionInputList"]
        )
        return {"Errors": errors} if errors else {}

    def get_partition(self, body: Body) -> Body:
        partition = self.catalog.get_partition(
            body["DatabaseName"], body["TableName"], body["PartitionValues"]
        )
        return {"Partition": partition}

    def get_partitions(self, body: Body) -> Body:
        partitions, token = self.catalog.get_partitions(
            body["DatabaseName"],
            body["TableName"],
            body.get("Expression"),
            body.get("NextToken"),
            body.get("MaxResults"),
            exclude_column_schema=bool(body.get("ExcludeColumnSchema")),
        )
        return _paged("Partitions", partitions, token)

    def batch_get_partition(self, body: Body) -> Body:
        wanted = [entry["Values"] for entry in body["PartitionsToGet"]]
        partitions = self.catalog.batch_get_partition(
            body["DatabaseName"], body["TableName"], wanted
        )
        return {"Partitions": partitions}  # none is ever left unprocessed here

    def delete_partition(self, body: Body) -> Body:
        self.catalog.delete_partition(
            body["DatabaseName"], body["TableName"], body["PartitionValues"]
        )
        return {}

    def batch_delete_partition(self, body: Body) -> Body:
        wanted = [entry["Values"] for entry in body["PartitionsToDelete"]]
        errors = self.catalog.batch_delete_partition(
            body["DatabaseName"], body["TableName"], wanted
        )
        return {"Errors": errors} if errors else {}
