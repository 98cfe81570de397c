"""The durable tasks of deliveries (Django's task framework through ``django-tasks``).

A task carries one delivery (a retry at its own time) or a batch of them (what one change, or
one sweep of deadlines, planned together). Each delivery in it is attempted on its own claim,
so a batch is as idempotent as a single one: a delivery that is not due is left alone, and one
that fails is retried by a task of its own.
"""

from __future__ import annotations

from django_tasks import task

from aftersales.notify.deliveries import delivery_attempt


@task()
def deliver(delivery_id: int) -> str:
    """One attempt at one delivery; idempotent (a delivery that is not due is left alone)."""
    return delivery_attempt(delivery_id)


@task()
def deliver_batch(delivery_ids: list[int]) -> dict[str, str]:
    """One attempt at each delivery of the batch, in order; what became of each, by id."""
    return {str(delivery_id): delivery_attempt(delivery_id) for delivery_id in delivery_ids}
