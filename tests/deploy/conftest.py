"""The production-process test reuses the job tests' Redis (``TEST_REDIS_URL``, skipped or failed
as there) and their SMTP server."""
from tests.jobs.conftest import inbox, redis_url  # noqa: F401 - fixtures shared with tests/jobs
