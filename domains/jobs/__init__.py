"""The job queue as HR and ADMIN see it: their company's pending and failed jobs, and a retry."""
