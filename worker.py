"""RQ worker entry point: builds the app once, then works the queues.

    python worker.py          # work the queues
    python worker.py cron     # run the recurring-job schedule (one process per deployment)
"""
import sys

from dotenv import load_dotenv
from rq import Worker
from rq.cron import CronScheduler

from loyalty import create_app
from loyalty.extensions import redis_client
from loyalty.jobs import QUEUES, schedule


def main(argv):
    load_dotenv()
    app = create_app()
    with app.app_context():
        connection = redis_client.connection
        if connection is None:
            sys.exit("REDIS_URL is not set: background jobs run inline, no worker is needed.")
        if argv[1:2] == ["cron"]:
            schedule(CronScheduler(connection=connection, name="loyalty-cron")).start()
        else:
            Worker(list(QUEUES), connection=connection).work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv)
