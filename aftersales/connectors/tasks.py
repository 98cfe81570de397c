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


@task()
def case_due(case_id: int, action: str) -> str:
    """A platform's case's deadline ran out: read the request again, or carry the shop's
    automatic action out on the platform within the store's cap (``writeback.case_due``)."""
    from aftersales.connectors.writeback import case_due as carry_out

    return carry_out(case_id, action)
