"""Operating copnet: health and readiness, metrics, logs, queue status."""
