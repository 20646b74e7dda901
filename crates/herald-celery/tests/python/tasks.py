"""The Python side of herald-celery's interop tests: the same tasks as the Rust example
worker, run by a real Celery worker. Broker and backend come from CELERY_BROKER and
CELERY_BACKEND."""

import os
import time

from celery import Celery

app = Celery("tasks", broker=os.environ["CELERY_BROKER"], backend=os.environ["CELERY_BACKEND"])
app.conf.broker_connection_retry_on_startup = True
app.conf.worker_hijack_root_logger = False


@app.task(name="tasks.add")
def add(x, y):
    return x + y


@app.task(name="tasks.mul")
def mul(x, y):
    return x * y


@app.task(name="tasks.fail")
def fail(message):
    raise ValueError(message)


@app.task(name="tasks.sleep")
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name="tasks.echo")
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@app.task(name="tasks.flaky", bind=True, max_retries=10)
def flaky(self, times):
    if self.request.retries < times:
        raise self.retry(countdown=1)
    return self.request.retries
