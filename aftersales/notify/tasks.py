"""The durable task of a delivery (Django's task framework through ``django-tasks``)."""

from __future__ import annotations

from django_tasks import task

from aftersales.notify.deliveries import delivery_attempt


@task()
def deliver(delivery_id: int) -> str:
    """One attempt at one delivery; idempotent (a delivery that is not due is left alone)."""
    return delivery_attempt(delivery_id)
