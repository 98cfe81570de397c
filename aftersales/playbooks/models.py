"""Playbooks (SOPs): for a class of problem (a case's kind × reason × product category), the
ordered steps an agent follows, and which of a case's steps are done."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from aftersales.cases.choices import CaseKind, Reason
from aftersales.core.models import TimestampedModel
from aftersales.playbooks.choices import StepType


class Playbook(TimestampedModel):
    """A shop's SOP for one class of problem, or (``shop`` empty) one of the installation's
    starter set, which is copied to a shop at onboarding or the first time its playbooks are read.
    ``kind``, ``reason`` and ``category`` left blank match anything; the most specific playbook
    that matches a case is its checklist. A starter playbook's words are msgids (translated when
    shown); a shop's own carry their words per language in ``words``. Replacing a playbook keeps
    its key and raises its ``version``."""

    shop = models.ForeignKey(
        "catalog.Shop", null=True, blank=True, on_delete=models.CASCADE, related_name="playbooks"
    )
    key = models.CharField(max_length=50)
    title = models.CharField(max_length=200)
    # {"zh-hans": "…", "en": "…"}: the title in each language the shop wrote it in.
    words = models.JSONField(default=dict, blank=True)
    is_starter = models.BooleanField(default=False)
    # Where the steps come from, by title (a handbook, a platform's rule).
    sources = models.JSONField(default=list, blank=True)
    kind = models.CharField(max_length=20, choices=CaseKind.choices, blank=True)
    reason = models.CharField(max_length=30, choices=Reason.choices, blank=True)
    category = models.CharField(max_length=100, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Whether the gate refuses an action while the steps required before it are not done.
    enforced = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "key"], condition=Q(shop__isnull=False), name="playbook_shop_key"
            ),
            models.UniqueConstraint(
                fields=["key"], condition=Q(shop__isnull=True), name="playbook_starter_key"
            ),
        ]
        ordering = ["shop_id", "key"]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


class Step(models.Model):
    """One step of a playbook, in order: a check, a question to ask, evidence to request, the
    case action to take (``action``) or the reply template to send (``template``: a starter
    template's key or the title of one of the shop's templates). ``required_before`` lists the
    case actions this step must be done before."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=50)
    type = models.CharField(max_length=10, choices=StepType.choices)
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    # {"zh-hans": {"title": "…", "detail": "…"}, "en": {…}}
    words = models.JSONField(default=dict, blank=True)
    action = models.CharField(max_length=30, blank=True)
    template = models.CharField(max_length=200, blank=True)
    required_before = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["playbook", "key"], name="playbook_step_key"),
        ]
        ordering = ["playbook_id", "order"]

    def __str__(self) -> str:
        return f"{self.playbook_id}:{self.key}"


class StepDone(models.Model):
    """A ticked step of a case's checklist: who, when, with what note, under which playbook
    version. Unticking deletes it; both are events on the case's timeline."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    # Reports go by shop (and one day, shards).
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    step_key = models.CharField(max_length=50)
    playbook_key = models.CharField(max_length=50)
    playbook_version = models.PositiveIntegerField()
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_by_name = models.CharField(max_length=150)
    done_at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "step_key"], name="step_done_once"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.step_key}"
