"""``python -m bench``: throughput and latency of the GraphQL API against a one-query reference.

It creates its own throw-away database, loads the demo data plus ~10,000 documents, serves
the real app under uvicorn in a background thread (with two reference endpoints mounted
beside it, for the benchmark only), drives both over HTTP and prints a comparison table.
"""
