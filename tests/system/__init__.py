"""Tests that start the real thing: the CLI, gunicorn, Redis and Celery, Dask, mpv, a wheel."""
