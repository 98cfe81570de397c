"""The durable task of a store's sync (Django's task framework through ``django-tasks``)."""

from __future__ import annotations

from django_tasks import task

from aftersales.connectors.sync import store_sync


@task()
def sync_store(store_id: int) -> dict:
    """Walk one store's changes to now; where it got to, and why it stopped if it did."""
    result = store_sync(store_id)
    return {
        "requests": result.requests,
        "changed": result.changed,
        "synced_until": result.synced_until.isoformat() if result.synced_until else None,
        "error": result.error,
    }
