"""gunicorn reads this file from the working directory: each worker warms up (templates,
mappers, catalogs, a first connection) before it takes its first request."""


def post_worker_init(worker):
    from loyalty.warmup import warm_up  # noqa: PLC0415 - imported in the worker, after the app

    warm_up(worker.wsgi)
