"""Glue jobs on the local endpoint: definitions, runs of their scripts, their logs.

``responses.JobResponses`` unpacks each job operation for ``backend.JobsBackend``; a run's
script runs in a process of its own (``run.py``) with what a session's worker has.
"""
