"""Runs the Python code given as argv[1] with the tasks module's `app` and Celery's
canvas in scope; the code prints what the test reads (JSON on stdout)."""

import json  # noqa: F401  (for the code run below)
import sys

from celery import chain, group, signature  # noqa: F401

from tasks import app  # noqa: F401

exec(sys.argv[1])
