"""Property test of the case lifecycle: random opens, actions by any role and jumps of the clock
(with the worker sweeping) never break an invariant — refunds never exceed what was paid, the
ledger sums exactly, claimed quantities stay within what was bought, final states stay final."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from aftersales.cases.choices import FINAL_STATES, CaseKind, Reason
from aftersales.cases.lifecycle import USER_ACTIONS
from aftersales.cases.models import Case, CaseLine, RefundEntry
from aftersales.cases.services import case_open, case_transition
from aftersales.catalog.models import Sku
from aftersales.core import clock
from aftersales.core.errors import ApplicationError
from aftersales.core.sweep import sweep
from tests.conftest import make_order, make_shop, make_user

RUN = itertools.count()
BODIES = {
    "approve": {},
    "reject": {"reason": "不符合"},
    "cancel": {},
    "modify": {"description": "补充", "reason": "quality_issue"},
    "ship_return": {"carrier": "SF", "tracking_number": "SF1"},
    "receive": {},
    "inspect": {"result": "pass"},
    "inspect_deduct": {"result": "deduct", "deduction": "5.00", "reason": "磨损"},
    "refund": {"idempotency_key": "k"},
    "convert": {"kind": "exchange", "reason": "顾客同意"},
    "convert_refund": {"kind": "return_refund", "reason": "缺货"},
    "ship_replacement": {"carrier": "SF", "tracking_number": "X1"},
    "ship_replacement_refund": {
        "carrier": "SF",
        "tracking_number": "X2",
        "price_difference": "-7.30",
    },
    "offer": {"note": "换个颜色？"},
    "diagnose": {"diagnosed_by": "shop", "fault_code": "F", "quote_parts": "12.00"},
    "diagnose_irreparable": {"diagnosed_by": "shop", "fault_code": "F", "repairable": False},
    "accept_quote": {},
    "decline_quote": {},
    "ship_back": {"carrier": "SF", "tracking_number": "B1", "parts_cost": "3.00"},
    "confirm_receipt": {},
}
VARIANTS = {
    "inspect_deduct": "inspect",
    "convert_refund": "convert",
    "ship_replacement_refund": "ship_replacement",
    "diagnose_irreparable": "diagnose",
}


class CaseLifecycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.offset = dt.timedelta(0)
        code = f"sm{next(RUN)}"
        make_shop(code)
        self.order = make_order(
            shop=code,
            external_id="O",
            customer="C",
            lines=[
                ("L1", f"{code}-A", 3, Decimal("40.00"), Decimal("100.00")),
                ("L2", f"{code}-B", 1, Decimal("50.00"), Decimal("45.50")),
            ],
        )
        self.lines = list(self.order.lines.order_by("id"))
        # Little stock, so that exchanges also run out of it.
        Sku.objects.filter(shop__code=code).update(stock=2)
        self.actors = {
            "agent": make_user(f"{code}-agent", "agent", shop=code).principal,
            "finance": make_user(f"{code}-finance", "finance", shop=code).principal,
            "customer": make_user(f"{code}-buyer", "customer", shop=code, customer="C").principal,
        }
        self.finished: dict[int, str] = {}
        self.keys = itertools.count()

    def _at_now(self):
        return clock.shifted(self.offset)

    @rule(
        line=st.integers(0, 1),
        quantity=st.integers(1, 3),
        amount=st.none() | st.decimals(min_value=0, max_value=120, places=2),
        kind=st.sampled_from(list(CaseKind)),
        reason=st.sampled_from(list(Reason)),
        by=st.sampled_from(["customer", "agent"]),
    )
    def open_case(self, line, quantity, amount, kind, reason, by):
        with self._at_now(), contextlib.suppress(ApplicationError):
            case_open(
                actor=self.actors[by],
                data={
                    "order_id": self.order.id,
                    "kind": kind,
                    "reason": reason,
                    "lines": [
                        {
                            "order_line_id": self.lines[line].id,
                            "quantity": quantity,
                            **({} if amount is None else {"amount": str(amount)}),
                        }
                    ],
                },
            )

    @rule(
        pick=st.integers(0, 50),
        action=st.sampled_from(sorted({*USER_ACTIONS, *VARIANTS})),
        role=st.sampled_from(["agent", "finance", "customer"]),
    )
    def act(self, pick, action, role):
        ids = list(
            Case.objects.filter(order=self.order).order_by("id").values_list("id", flat=True)
        )
        if not ids:
            return
        data = dict(BODIES[action])
        if action == "refund":
            data["idempotency_key"] = f"k{next(self.keys)}"
        with self._at_now(), contextlib.suppress(ApplicationError):
            case_transition(
                case_id=ids[pick % len(ids)],
                action=VARIANTS.get(action, action),
                actor=self.actors[role],
                data=data,
            )

    @rule(hours=st.integers(1, 300))
    def time_passes(self, hours):
        self.offset += dt.timedelta(hours=hours)
        with self._at_now():
            sweep()

    @invariant()
    def refunds_never_exceed_payment_and_the_ledger_is_exact(self):
        for line in self.order.lines.all():
            entries = sum(
                RefundEntry.objects.filter(order_line=line).values_list("amount", flat=True),
                Decimal("0.00"),
            )
            assert entries == line.refunded_amount <= line.paid_amount
            claimed = sum(
                CaseLine.objects.filter(order_line=line)
                .exclude(case__state__in=["closed", "completed"])
                .values_list("quantity", flat=True)
            )
            assert claimed <= line.quantity
        assert not Sku.objects.filter(shop=self.order.shop, stock__lt=0).exists()

    @invariant()
    def each_case_adds_up_and_final_states_stay_final(self):
        for case in Case.objects.filter(order=self.order):
            paid = sum(
                RefundEntry.objects.filter(case=case).values_list("amount", flat=True),
                Decimal("0.00"),
            )
            assert case.refunded_amount == paid
            assert case.approved_amount >= 0
            assert case.events.first().action == "open"
            if case.id in self.finished:
                assert case.state == self.finished[case.id]
            elif case.state in FINAL_STATES:
                self.finished[case.id] = case.state
                assert case.deadline_action == ""


def test_random_lifecycles_keep_every_invariant(db):
    run_state_machine_as_test(
        CaseLifecycle,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
