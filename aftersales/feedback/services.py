"""Writes of customer feedback: a customer rates their ended case once."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.cases.choices import FINAL_STATES, Action, RatingReason
from aftersales.cases.models import Case
from aftersales.cases.services import case_lock
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import Conflict, InvalidInput, PermissionDenied
from aftersales.core.gate import event_for
from aftersales.core.notices import notice_build, notices_save
from aftersales.core.permissions import permitted
from aftersales.feedback.models import Rating


@transaction.atomic
def rating_add(
    *, actor: Principal, case_id: int, score: int, reasons: list[str], comment: str = ""
) -> Rating:
    """The customer's rating of their case once it has ended: on its timeline, and a notice to
    the shop."""
    if (
        not permitted(actor, "case.rate")
        or not actor.scope(Case.objects.filter(pk=case_id)).exists()
    ):
        raise PermissionDenied(_("Only the customer rates their case."), code="forbidden")
    case = case_lock(case_id)
    if case.state not in FINAL_STATES:
        raise Conflict(_("A case is rated once it has ended."), code="case_not_ended")
    if Rating.objects.filter(case=case).exists():
        raise Conflict(_("This case has been rated already."), code="already_rated")
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput(_("Give 1 to 5 stars."), code="invalid_score", field="score")
    unknown = set(reasons) - set(RatingReason.values)
    if unknown:
        raise InvalidInput(_("Unknown reason."), code="invalid_reason", field="reasons")
    if len(comment) > 2000:
        raise InvalidInput(_("The comment is too long."), code="invalid_input", field="comment")
    now = clock.now()
    rating = Rating.objects.create(
        case=case,
        score=score,
        reasons=sorted(set(reasons)),
        comment=comment.strip(),
        created_at=now,
    )
    event_for(
        case,
        actor=actor,
        action=Action.RATE,
        from_state=case.state,
        data={"score": score, "reasons": rating.reasons},
        now=now,
    ).save()
    notices_save([notice_build(case, "case_rated", {"score": score})])
    return rating
