"""The SQLite backend: jobs, counters, workers and Huey's tables in one file."""
