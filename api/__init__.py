"""The grading service: HTTP API, persistence, auth, the Celery queue and its worker."""
