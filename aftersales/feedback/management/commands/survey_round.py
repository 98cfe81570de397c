from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from aftersales.catalog.models import Shop
from aftersales.core.actors import SYSTEM
from aftersales.core.errors import ApplicationError
from aftersales.feedback.models import Survey, SurveyChannel
from aftersales.feedback.surveys import survey_round_run


def rate_value(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(f"--rate {text!r} is not a number, e.g. 0.2") from None


class Command(BaseCommand):
    help = (
        "Run a shop's monthly satisfaction survey: survey_round --shop CODE --month 2026-10 "
        "--rate 0.2 --cooldown 90 [--seed N] (the seed is drawn and printed when left out)."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, help="the shop's code")
        parser.add_argument("--month", required=True, help="YYYY-MM, in the shop's time zone")
        parser.add_argument("--rate", required=True, type=rate_value, help="share to sample")
        parser.add_argument("--cooldown", required=True, type=int, help="days")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, shop, month, rate, cooldown, seed, **options):
        found = Shop.objects.filter(code=shop).first()
        if found is None:
            raise CommandError(f"no shop {shop}")
        try:
            survey_round = survey_round_run(
                actor=SYSTEM,
                shop=found,
                month=month,
                rate=rate,
                cooldown_days=cooldown,
                seed=seed,
            )
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.detail}") from None
        surveys = Survey.objects.filter(round=survey_round)
        counts = {channel: surveys.filter(channel=channel).count() for channel in SurveyChannel}
        self.stdout.write(
            f"{found.code} {survey_round.month}: {sum(counts.values())} of "
            f"{survey_round.population} eligible sampled (e-mail {counts['email']}, "
            f"text {counts['sms']}, to call {counts['phone']}); seed {survey_round.seed}"
        )
