from django.db import models


class TimestampedModel(models.Model):
    """Base for every domain model: aware UTC creation and update times."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
