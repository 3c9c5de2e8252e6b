"""The API's background jobs: exports. Thin: each takes ids and calls one service."""

from celery import shared_task

from . import services_exports


@shared_task(acks_late=True)
def export_write(export_id):
    """Write one export's CSV; an export already written is left alone."""
    services_exports.export_write(export_id=export_id)


@shared_task(acks_late=True)
def sweep_exports():
    """Enqueue exports whose enqueue was lost (a broker outage); running it twice is harmless."""
    return services_exports.exports_sweep()
