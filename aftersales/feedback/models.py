"""What customers tell the shop about its service: the rating a customer leaves on an ended case
(self-selected), and the monthly satisfaction surveys of a random sample of ended cases."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.core.lifecycle import Stateful


class Rating(models.Model):
    """The customer's rating of the service once the case has ended (1-5, reasons, comment)."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="feedback_rating_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.score}"


class SurveyChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message")
    PHONE = "phone", _("Phone call")


class SurveyStatus(models.TextChoices):
    """The states of a survey's lifecycle (``feedback.lifecycle``); the API calls a survey's
    state its ``status``."""

    SENT = "sent", _("Awaiting the answer")
    ANSWERED = "answered", _("Answered")
    EXPIRED = "expired", _("Expired")
    DECLINED = "declined", _("Declined")


SURVEY_FINAL_STATES = frozenset(
    {SurveyStatus.ANSWERED, SurveyStatus.DECLINED, SurveyStatus.EXPIRED}
)


class SurveyAction(models.TextChoices):
    SEND = "send", _("Survey sent")
    ANSWER = "answer", _("Answered by the customer")
    RECORD_CALL = "record_call", _("Answers recorded on the phone")
    DECLINE = "decline", _("Declined")
    EXPIRE = "expire", _("Expired unanswered")


class SurveyRound(models.Model):
    """One month's satisfaction survey of a shop: the sample drawn, with the rate, the cooldown
    and the seed that reproduce it (``feedback.surveys.survey_round_run``)."""

    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    # The calendar month (``YYYY-MM``, in the shop's time zone) whose ended cases were sampled.
    month = models.CharField(max_length=7)
    sample_rate = models.DecimalField(max_digits=4, decimal_places=3)
    cooldown_days = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    # How many cases were eligible (after the cooldown, one per customer).
    population = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "month"], name="survey_round_once_a_month")
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.month}"


class Survey(Stateful):
    """A sampled customer's survey about one ended case: sent by e-mail or text message with a
    one-time link (only its hash is kept), or called by an agent who records the answers. Its
    ``state`` (``SurveyStatus``) is changed by its lifecycle alone; while it is sent, its
    ``deadline_at`` is the end of the link (and of the call), when the sweep expires it."""

    round = models.ForeignKey(SurveyRound, on_delete=models.CASCADE, related_name="surveys")
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="survey")
    customer = models.ForeignKey("catalog.Customer", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    # The case's assignee when the round ran (the stratum's agent).
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=SurveyChannel.choices)
    # The link's token is derived from this salt and the installation's secret key; the row
    # keeps only the token's SHA-256, so the database alone opens no survey.
    token_salt = models.CharField(max_length=32, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    events = GenericRelation(
        "core.Event",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="survey",
    )
    notices = GenericRelation(
        "core.Notice",
        content_type_field="subject_type",
        object_id_field="subject_id",
        related_query_name="survey",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="feedback_survey_1_to_5",
            )
        ]
        indexes = [
            # The cooldown: a customer's latest surveys.
            models.Index(fields=["customer", "created_at"], name="survey_customer_time"),
            # The list to call.
            models.Index(fields=["shop", "channel", "state"], name="survey_to_call"),
            # The sweep: the surveys whose link ends.
            models.Index(
                fields=["deadline_at"], condition=~Q(deadline_action=""), name="survey_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.state}"
