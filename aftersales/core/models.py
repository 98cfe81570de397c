from django.db import models


class TimestampedModel(models.Model):
    """Base for every domain model: aware UTC creation and update times."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class RateCounter(models.Model):
    """Hits of one key (e.g. a login's IP and user name) in one time window. Kept in the database
    so every web process counts together."""

    key = models.CharField(max_length=200)
    window = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="rate_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.window}: {self.hits}"


class WorkerHeartbeat(models.Model):
    """The last sign of life of one deadline worker process: written after every sweep, read by
    the health endpoint and the workbench, which warn when no worker has swept for a while."""

    worker = models.CharField(max_length=200, unique=True)  # host:pid
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["beat_at"], name="worker_heartbeat_beat")]

    def __str__(self) -> str:
        return f"{self.worker} @ {self.beat_at}"
