"""Load demo data once: a Taobao-style shop, customers, orders with Chinese product names, cases in
every state with live deadlines, one user per role with a known token, and two teams of agents."""

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from aftersales.cases.choices import CaseKind, Reason
from aftersales.cases.services import case_open, case_transition
from aftersales.catalog import order_data
from aftersales.catalog import orders as order_services
from aftersales.catalog import services as catalog
from aftersales.catalog.models import Shop, Sku
from aftersales.core import clock
from aftersales.core.actors import SYSTEM, Principal
from aftersales.onboarding.services import shop_onboard
from aftersales.routing.services import routing_agent_set
from aftersales.routing.teams import team_create
from aftersales.team.selectors import principal_for_token
from aftersales.team.services import token_create, user_create

SHOP = "demo"
# (sku, title, price, flags, product, warranty days)
PRODUCTS = [
    ("SKU-WOOL-M", "羊毛针织开衫 M码", Decimal("299.00"), [], "WOOL", 0),
    ("SKU-WOOL-L", "羊毛针织开衫 L码", Decimal("299.00"), [], "WOOL", 0),
    ("SKU-SHOE-40", "真皮休闲鞋 40码", Decimal("459.00"), [], "SHOE", 0),
    ("SKU-TEA-250", "西湖龙井 250克", Decimal("168.00"), ["perishable"], "TEA", 0),
    ("SKU-EARBUD", "蓝牙降噪耳机", Decimal("899.00"), [], "EARBUD", 365),
    ("SKU-SOCKS", "纯棉袜子 5双装", Decimal("39.90"), ["intimate"], "SOCKS", 0),
    ("SKU-PHOTO", "定制照片台历", Decimal("88.00"), ["custom_made"], "PHOTO", 0),
    ("SKU-KETTLE", "不锈钢电热水壶", Decimal("129.00"), [], "KETTLE", 365),
]
EXCHANGE_PRODUCT, REPAIR_PRODUCT = 0, 4
SENT_BACK = ["approve", "ship_return", "receive"]
CUSTOMERS = [
    ("C001", "张伟", "13800000001", "zhangwei@example.com"),
    ("C002", "王芳", "13800000002", ""),
    ("C003", "李娜", "13800000003", ""),
    ("C004", "刘洋", "13800000004", ""),
    ("C005", "陈静", "13800000005", ""),
]
TOKENS = {
    "admin": "as_demo_admin",
    "agent": "as_demo_agent",
    "finance": "as_demo_finance",
    "lead": "as_demo_lead",
    "logistics": "as_demo_logistics",
    "technician": "as_demo_technician",
    "buyer": "as_demo_customer",
}
# The shop's teams of agents (售后小组) and who is in each: the "agent" and the "lead" with a
# colleague each (these two have no token: they log in at the desk with demo-<name>-pass).
TEAMS = {"退换货一组": ["agent", "xiaowang"], "维修组": ["lead", "xiaoli"]}
# (kind, reason, order shipped?, hours ago the case was opened, steps after opening)
SCENARIOS = [
    (CaseKind.REFUND_ONLY, Reason.NOT_SHIPPED, False, 40, []),
    (CaseKind.RETURN_REFUND, Reason.QUALITY_ISSUE, True, 2, []),
    (CaseKind.RETURN_REFUND, Reason.NO_REASON, True, 100, []),
    (CaseKind.RETURN_REFUND, Reason.WRONG_SIZE, True, 30, ["reject"]),
    (CaseKind.RETURN_REFUND, Reason.NO_REASON, True, 50, ["approve"]),
    (CaseKind.RETURN_REFUND, Reason.NOT_AS_DESCRIBED, True, 20, ["approve"]),
    (CaseKind.RETURN_REFUND, Reason.WRONG_ITEM, True, 72, ["approve", "ship_return"]),
    (
        CaseKind.RETURN_REFUND,
        Reason.DAMAGED_IN_TRANSIT,
        True,
        96,
        ["approve", "ship_return", "receive"],
    ),
    (
        CaseKind.RETURN_REFUND,
        Reason.CHANGED_MIND,
        True,
        120,
        ["approve", "ship_return", "receive", "inspect_deduct"],
    ),
    (CaseKind.REFUND_ONLY, Reason.MISSING_ITEM, True, 10, ["approve"]),
    (
        CaseKind.RETURN_REFUND,
        Reason.QUALITY_ISSUE,
        True,
        150,
        ["approve", "ship_return", "receive", "inspect", "refund"],
    ),
    (CaseKind.REFUND_ONLY, Reason.NOT_SHIPPED, False, 60, ["approve", "refund"]),
    (CaseKind.RETURN_REFUND, Reason.BOUGHT_BY_MISTAKE, True, 48, ["cancel"]),
    (CaseKind.RETURN_REFUND, Reason.WRONG_SIZE, True, 130, ["reject", "cancel"]),
    (CaseKind.EXCHANGE, Reason.WRONG_SIZE, True, 30, [*SENT_BACK, "inspect"]),
    (CaseKind.EXCHANGE, Reason.WRONG_SIZE, True, 60, [*SENT_BACK, "inspect", "ship_replacement"]),
    (
        CaseKind.EXCHANGE,
        Reason.WRONG_SIZE,
        True,
        200,
        [*SENT_BACK, "inspect", "ship_replacement", "confirm_receipt"],
    ),
    (CaseKind.REPAIR, Reason.QUALITY_ISSUE, True, 30, [*SENT_BACK]),
    (CaseKind.REPAIR, Reason.QUALITY_ISSUE, True, 50, [*SENT_BACK, "diagnose_free"]),
    # Bought more than a year ago: out of warranty, so the service center quotes.
    (CaseKind.REPAIR, Reason.QUALITY_ISSUE, "old", 40, [*SENT_BACK, "diagnose_quote"]),
    (
        CaseKind.REPAIR,
        Reason.QUALITY_ISSUE,
        "old",
        70,
        [*SENT_BACK, "diagnose_quote", "decline_quote"],
    ),
]


class Command(BaseCommand):
    help = "Load demo data (once: does nothing if the demo shop exists)."
    # A data command: the system checks (which build every URL and the API's document, two of
    # the three seconds of a start) run with `serve`, the worker and `migrate`.
    requires_system_checks = []

    def handle(self, *args, **options):
        if Shop.objects.filter(code=SHOP).exists():
            self.stdout.write("demo data already loaded")
            return
        with transaction.atomic():
            self._load()
        self.stdout.write("demo data loaded; API tokens:")
        for name, token in TOKENS.items():
            self.stdout.write(f"  {name:10} {token}")

    def _load(self):
        shop_onboard(
            actor=SYSTEM,
            code=SHOP,
            name="示例旗舰店 Demo Flagship Store",
            preset="taobao",
            return_addresses=[
                catalog.AddressData(
                    name="售后仓 王师傅",
                    phone="0571-88880000",
                    address="浙江省杭州市余杭区文一西路 969 号 售后仓",
                    is_default=True,
                ),
            ],
        )
        self.center = catalog.service_center_create(
            actor=SYSTEM,
            shop=Shop.objects.get(code=SHOP),
            kind="service_center",
            name="耳机授权维修中心 (杭州)",
            address="浙江省杭州市西湖区文三路 90 号",
            phone="0571-86660000",
            turnaround_days=10,
        )
        now = clock.now()
        orders = []
        for index, (kind, reason, shipped, hours_ago, _steps) in enumerate(SCENARIOS):
            customer = CUSTOMERS[index % len(CUSTOMERS)]
            product = PRODUCTS[index % len(PRODUCTS)]
            if kind == CaseKind.EXCHANGE:
                product = PRODUCTS[EXCHANGE_PRODUCT]
            elif kind == CaseKind.REPAIR:
                product = PRODUCTS[REPAIR_PRODUCT]
            elif reason == Reason.NO_REASON and product[3]:
                product = PRODUCTS[0]
            sku, title, price, flags, product_code, warranty_days = product
            opened = now - dt.timedelta(hours=hours_ago)
            paid = opened - dt.timedelta(days=400 if shipped == "old" else 4)
            order, _ = order_services.order_upsert(
                actor=SYSTEM,
                data=order_data.OrderData(
                    shop=SHOP,
                    external_id=f"TB{2026111100000 + index}",
                    customer=order_data.CustomerData(*customer),
                    paid_at=paid,
                    shipped_at=paid + dt.timedelta(days=1) if shipped else None,
                    signed_at=paid + dt.timedelta(days=3) if shipped else None,
                    shipping_fee=Decimal("0.00"),
                    invoice=order_data.InvoiceData(
                        number=f"FP{2026111100000 + index}",
                        amount=price * 2,
                        issued_at=paid,
                        title=customer[1],
                    ),
                    lines=[
                        order_data.LineData(
                            external_id="1",
                            sku=sku,
                            title=title,
                            quantity=2,
                            unit_price=price,
                            paid_amount=price * 2,
                            product_flags=flags,
                            product=product_code,
                            warranty_days=warranty_days,
                        )
                    ],
                ),
            )
            orders.append(order)
        user_create(username="admin", role="admin", password="demo-admin-pass")
        user_create(username="agent", role="agent", shop_codes=[SHOP], password="demo-agent-pass")
        user_create(
            username="finance", role="finance", shop_codes=[SHOP], password="demo-finance-pass"
        )
        for role in ("lead", "logistics", "technician"):
            user_create(username=role, role=role, shop_codes=[SHOP], password=f"demo-{role}-pass")
        user_create(
            username="buyer",
            role="customer",
            shop_codes=[SHOP],
            customer_external_id="C001",
            password="demo-buyer-pass",
        )
        for name, token in TOKENS.items():
            token_create(username=name, name="demo", token=token)
        self._teams()
        # Stock for exchanges: the other size of the cardigan is on the shelf.
        Sku.objects.filter(shop__code=SHOP).update(stock=20)
        agent = principal_for_token(TOKENS["agent"])
        finance = principal_for_token(TOKENS["finance"])
        for order, (kind, reason, _shipped, hours_ago, steps) in zip(
            orders, SCENARIOS, strict=True
        ):
            self._play(order, kind, reason, hours_ago, steps, agent, finance)

    def _teams(self):
        shop = Shop.objects.get(code=SHOP)
        admin = principal_for_token(TOKENS["admin"])
        for team, members in TEAMS.items():
            team_create(actor=admin, shop=shop, name=team)
            for username in members:
                if username not in TOKENS:
                    user_create(
                        username=username,
                        role="agent",
                        shop_codes=[SHOP],
                        password=f"demo-{username}-pass",
                    )
                routing_agent_set(actor=admin, shop=shop, username=username, team=team)

    def _play(self, order, kind, reason, hours_ago, steps, agent: Principal, finance: Principal):
        customer = Principal(
            user_id=None,
            username=order.customer.name,
            role="customer",
            shop_ids=frozenset({order.shop_id}),
            customer_id=order.customer_id,
        )
        line = order.lines.get()
        with clock.shifted(-dt.timedelta(hours=hours_ago)):
            case = case_open(
                actor=customer,
                data={
                    "order_id": order.id,
                    "kind": kind,
                    "reason": reason,
                    "description": "演示数据 demo case",
                    "lines": [{"order_line_id": line.id, "quantity": 1}],
                },
            )
        # Each later step happened a little after the one before, so deadlines stay realistic.
        step_gap = dt.timedelta(hours=hours_ago) / (len(steps) + 1)
        for position, step in enumerate(steps, start=1):
            offset = -dt.timedelta(hours=hours_ago) + step_gap * position
            actor, action, data = {
                "approve": (agent, "approve", {}),
                "reject": (agent, "reject", {"reason": "已联系买家,商品不影响二次销售前请先沟通"}),
                "cancel": (customer, "cancel", {}),
                "ship_return": (
                    customer,
                    "ship_return",
                    {"carrier": "顺丰速运", "tracking_number": f"SF{order.id:010d}"},
                ),
                "receive": (agent, "receive", {"invoice_enclosed": kind == CaseKind.REPAIR}),
                "inspect": (agent, "inspect", {"result": "pass"}),
                "inspect_deduct": (
                    agent,
                    "inspect",
                    {"result": "deduct", "deduction": "30.00", "reason": "吊牌已拆,有穿着痕迹"},
                ),
                "refund": (finance, "refund", {"idempotency_key": f"demo-{case.number}"}),
                "ship_replacement": (
                    agent,
                    "ship_replacement",
                    {
                        "carrier": "顺丰速运",
                        "tracking_number": f"SF9{order.id:09d}",
                        "sku": "SKU-WOOL-L",
                    },
                ),
                "confirm_receipt": (customer, "confirm_receipt", {}),
                "diagnose_free": (
                    agent,
                    "diagnose",
                    {
                        "diagnosed_by": "service_center",
                        "service_center_id": self.center.id,
                        "fault_code": "左耳无声",
                        "note": "左耳单元损坏,保修期内免费更换单元",
                    },
                ),
                "diagnose_quote": (
                    agent,
                    "diagnose",
                    {
                        "diagnosed_by": "service_center",
                        "service_center_id": self.center.id,
                        "fault_code": "无法充电",
                        "note": "充电仓主板损坏,已过保修期",
                        "quote_parts": "120.00",
                        "quote_labour": "60.00",
                    },
                ),
                "decline_quote": (customer, "decline_quote", {"reason": "维修费太贵"}),
            }[step]
            with clock.shifted(offset):
                case_transition(case_id=case.id, action=action, actor=actor, data=data)
