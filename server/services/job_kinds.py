"""Every kind of scheduled job copnet runs, and its handler (read by the scheduler)."""

from __future__ import annotations

from server.services.basecamps import JOB_HANDLERS as BASECAMP_JOBS
from server.services.harvest_federation import JOB_HANDLERS as HARVEST_JOBS
from server.services.notifications import JOB_HANDLERS as NOTIFICATION_JOBS

JOB_HANDLERS = {**BASECAMP_JOBS, **HARVEST_JOBS, **NOTIFICATION_JOBS}
