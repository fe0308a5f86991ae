"""RQ worker entry point: builds the app once, then works the queues.

    python worker.py            # work the queues: default, email, wallet, webhooks
    python worker.py email      # work only the named queues
    python worker.py --burst    # work until the queues are empty, then exit
    python worker.py cron       # run the recurring-job schedule (one process per deployment)

A worker runs each job in a child process (RQ's work horse); the child drops the database
connections it inherited, so no connection is shared across processes. Both kinds of process
outlive a Redis outage (``loyalty/jobs/processes.py``) and exit 0 only when asked to stop.
"""
import os
import sys

from dotenv import load_dotenv
from sqlalchemy.orm import configure_mappers

from loyalty import create_app
from loyalty.extensions import db, redis_client
from loyalty.jobs import QUEUES, schedule
from loyalty.jobs.processes import Schedule, work


def main(argv):
    load_dotenv()
    app = create_app()
    args = argv[1:]
    with app.app_context():
        connection = redis_client.connection
        if connection is None:
            sys.exit("REDIS_URL is not set: background jobs run inline, no worker is needed.")
        # Each job runs in a forked child: what the parent has done, the children need not
        # (configuring the mappers cost each job's process 0.8 s, bench/platform_scale.py).
        configure_mappers()
        engines = list(db.engines.values())
        for engine in engines:
            engine.dispose()
        os.register_at_fork(after_in_child=lambda: [e.dispose(close=False) for e in engines])
        if args[:1] == ["cron"]:
            schedule(Schedule(connection, name=f"loyalty-cron-{os.getpid()}",
                              retry_max_seconds=app.config["REDIS_RETRY_MAX_SECONDS"])).start()
            return
        burst = "--burst" in args
        queues = [name for name in args if not name.startswith("-")] or list(QUEUES)
        unknown = set(queues) - set(QUEUES)
        if unknown:
            sys.exit(f"Unknown queue(s): {', '.join(sorted(unknown))}. Queues: {', '.join(QUEUES)}.")
        sys.exit(work(queues, connection, app.config, burst=burst))


if __name__ == "__main__":
    main(sys.argv)
