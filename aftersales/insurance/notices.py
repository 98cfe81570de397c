"""The notices of shipping insurance: the buyer hears that the order is insured and that a claim
was paid; the shop's lead hears that a buyer's abuse was confirmed, or that a flag waits past its
review's due time."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from aftersales.core.models import Audience
from aftersales.core.notices import NoticeKind, notice_kinds

notice_kinds(
    NoticeKind(
        "insurance_insured",
        Audience.CUSTOMER,
        gettext_lazy("Your order is insured for its return shipping"),
        gettext_lazy("The order was insured for its return shipping"),
    ),
    NoticeKind(
        "insurance_claim_paid",
        Audience.CUSTOMER,
        gettext_lazy("Your return shipping was reimbursed"),
        gettext_lazy("A return-shipping claim was paid"),
    ),
    NoticeKind(
        "insurance_flag_confirmed",
        Audience.LEAD,
        gettext_lazy("Shipping insurance: abuse confirmed for a buyer"),
        gettext_lazy("A platform operator confirmed a buyer's shipping-insurance abuse"),
    ),
    NoticeKind(
        "insurance_flag_overdue",
        Audience.LEAD,
        gettext_lazy("Shipping insurance: a flagged buyer is waiting for review"),
        gettext_lazy(
            "A buyer's shipping-insurance abuse flag was not reviewed in time "
            "(insurance.review_due)"
        ),
    ),
)
