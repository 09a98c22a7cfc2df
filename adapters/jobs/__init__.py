"""The job queue (procrastinate, on PostgreSQL) and its consumers of the outbox: the relay,
webhook deliveries, mail. Raw SQL through psycopg on purpose: this package does not import the
SQL adapter; the tables' shapes (``adapters/sql/jobs.py``, the outbox) are the contract."""
