"""The starter set: one playbook per everyday class of problem, written from the after-sales
handbooks the product's domain reference cites (docs/domain.md, "Sources"), each naming its
source by title. Words are msgids (``gettext_noop``): the starter playbooks are stored in English
and translated when shown. Raise a playbook's ``version`` when its steps change: the
installation's copy follows, and shops keep the copy they have.

``TEMPLATES`` are the reply templates the template steps send, by key: the team's starter
templates by their titles, and the ones this set adds, with their bodies in both languages.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop as _

HANDBOOK = _("《售后服务手册》, the after-sales handbook of a Taobao shoe shop (2010)")
TEXTBOOK = _("A textbook section on online-shop customer service after the sale (§5.3.9)")
PLATFORMS = _(
    "《如何才能让售后服务挽留住预流失客户？》, after-sales on five platforms compared (2020)"
)

STARTER: list[dict] = [
    {
        "key": "size_exchange",
        "version": 1,
        "title": _("Size exchange within 7 days, tags intact"),
        "sources": [HANDBOOK],
        "kind": "exchange",
        "reason": "wrong_size",
        "steps": [
            {
                "key": "within_7_days",
                "type": "check",
                "title": _("Check that the goods were received no more than 7 days ago"),
                "detail": _("A size is exchanged within 7 days of receipt: look at the signing."),
                "required_before": ["approve"],
            },
            {
                "key": "worn_and_tags",
                "type": "question",
                "title": _("Ask whether the item was worn and whether its tags are intact"),
                "detail": _("Only an item that was not worn, with its tags intact, is exchanged."),
                "required_before": ["approve"],
            },
            {
                "key": "approve",
                "type": "action",
                "title": _("Approve the exchange"),
                "action": "approve",
            },
            {
                "key": "send_reply",
                "type": "template",
                "title": _("Send the return address and the deadline"),
                "detail": _("Remind the buyer to pack the item well."),
                "template": "size_exchange",
            },
            {
                "key": "tags_on_receipt",
                "type": "check",
                "title": _("On receipt, check that it was not worn and the tags are intact"),
                "required_before": ["inspect"],
            },
            {
                "key": "ship_new_size",
                "type": "action",
                "title": _("Ship the new size"),
                "action": "ship_replacement",
            },
        ],
    },
    {
        "key": "quality_issue",
        "version": 1,
        "title": _("Quality problem: photos first"),
        "sources": [HANDBOOK, TEXTBOOK],
        "kind": "",
        "reason": "quality_issue",
        "steps": [
            {
                "key": "photos",
                "type": "evidence",
                "title": _("Ask the customer for photos of the fault"),
                "detail": _("Decide nothing on a quality problem before you have seen it."),
                "required_before": ["approve"],
            },
            {
                "key": "fault_seen",
                "type": "check",
                "title": _("Look at the photos: a fault, a misunderstanding, or wrong use?"),
                "detail": _(
                    "A misunderstanding is answered by explaining the product patiently, wrong "
                    "use by showing how to use it."
                ),
                "required_before": ["approve"],
            },
            {
                "key": "offer_choice",
                "type": "question",
                "title": _("Offer a choice: return, exchange or repair"),
                "detail": _(
                    "The shop pays the return shipping of a quality problem. Repair within 14 "
                    "days after the sale is promised on photos."
                ),
            },
            {
                "key": "approve",
                "type": "action",
                "title": _("Approve the application"),
                "action": "approve",
            },
            {
                "key": "send_reply",
                "type": "template",
                "title": _("Send the quality issue reply with the return address"),
                "template": "quality_issue",
            },
            {
                "key": "fault_on_receipt",
                "type": "check",
                "title": _("On receipt, confirm the fault and keep photos as evidence"),
                "required_before": ["inspect", "diagnose"],
            },
        ],
    },
    {
        "key": "counterfeit_claim",
        "version": 1,
        "title": _("Counterfeit claim: offer authentication"),
        "sources": [HANDBOOK, PLATFORMS],
        "kind": "",
        "reason": "counterfeit",
        "steps": [
            {
                "key": "offer_authentication",
                "type": "question",
                "title": _(
                    "State calmly that the goods are genuine; offer to have them authenticated"
                ),
                "required_before": ["approve", "reject"],
            },
            {
                "key": "who_pays",
                "type": "template",
                "title": _("Send the authentication offer: who pays what"),
                "detail": _(
                    "Fake: the shop refunds, pays for the authentication and the buyer keeps the "
                    "item. Genuine: the buyer pays the return shipping."
                ),
                "template": "counterfeit_authentication",
                "required_before": ["approve", "reject"],
            },
            {
                "key": "claim_evidence",
                "type": "evidence",
                "title": _("Ask for the photos or the report the claim rests on"),
                "required_before": ["approve"],
            },
            {
                "key": "approve",
                "type": "action",
                "title": _("Approve the return for authentication"),
                "action": "approve",
            },
            {
                "key": "verdict",
                "type": "action",
                "title": _("Inspect and record the authenticity verdict"),
                "detail": _("Ten-fold compensation (假一赔十) is paid only on proof."),
                "action": "inspect",
            },
        ],
    },
    {
        "key": "damaged_on_receipt",
        "version": 1,
        "title": _("Return received damaged: contact the buyer before deducting"),
        "sources": [HANDBOOK],
        "kind": "return_refund",
        "reason": "",
        "steps": [
            {
                "key": "parcel_on_receipt",
                "type": "check",
                "title": _("On receipt, check the packaging and the goods against the order"),
                "required_before": ["inspect"],
            },
            {
                "key": "damage_photos",
                "type": "evidence",
                "title": _("If the box is damaged or the goods worn or soiled, take photos"),
                "detail": _("Keep the photos as evidence for the platform."),
            },
            {
                "key": "tell_buyer",
                "type": "template",
                "title": _("Tell the buyer what was found"),
                "template": "damage_found",
            },
            {
                "key": "agree_deduction",
                "type": "question",
                "title": _("Agree any deduction with the buyer before deducting"),
                "detail": _(
                    "Deduct by the degree of damage, and only what the buyer was told. When the "
                    "goods are intact, tick this with a note saying so."
                ),
                "required_before": ["inspect"],
            },
            {
                "key": "inspect",
                "type": "action",
                "title": _("Inspect: refund in full, or deduct what was agreed"),
                "action": "inspect",
            },
        ],
    },
    {
        "key": "out_of_stock",
        "version": 1,
        "title": _("Out of stock: offer alternatives or a discount, then refund"),
        "sources": [HANDBOOK],
        "kind": "",
        "reason": "not_shipped",
        "steps": [
            {
                "key": "stock",
                "type": "check",
                "title": _("Check the stock and how long a restock would take"),
            },
            {
                "key": "alternatives",
                "type": "question",
                "title": _("Contact the buyer at once: offer a similar item or a discount"),
                "required_before": ["approve"],
            },
            {
                "key": "wait",
                "type": "question",
                "title": _("If the restock takes long, ask whether the buyer will wait"),
            },
            {
                "key": "send_reply",
                "type": "template",
                "title": _("Send the out-of-stock reply"),
                "template": "out_of_stock",
            },
            {
                "key": "refund",
                "type": "action",
                "title": _("If the buyer wants the money back, approve the refund"),
                "action": "approve",
            },
            {
                "key": "compensation",
                "type": "check",
                "title": _(
                    "Mall (Tmall) shops: compensate five per cent of the amount, at most ¥30"
                ),
                "detail": _("An out-of-stock refund also counts against the shop's ranking."),
            },
        ],
    },
]

# key → {language: (title, body)}; a body of None: one of the team's starter templates, which the
# shop has from its onboarding.
TEMPLATES: dict[str, dict[str, tuple[str, str | None]]] = {
    "size_exchange": {"zh-hans": ("尺码换货", None), "en": ("Size exchange", None)},
    "quality_issue": {"zh-hans": ("质量问题处理", None), "en": ("Quality issue", None)},
    "counterfeit_authentication": {
        "zh-hans": (
            "假货质疑：提供鉴定",
            "亲爱的{customer_name}，本店商品均为正品，您可以送去鉴定。"
            "如鉴定为假货，我们为您退款、承担鉴定费用，商品也送给您；"
            "如鉴定为正品，退换货的运费需由您承担。售后单 {case_number} 会一直为您跟进。",
        ),
        "en": (
            "Counterfeit claim: authentication",
            "Dear {customer_name}, everything we sell is genuine, and you are welcome to have the "
            "item authenticated. If it proves fake, we refund you, pay for the authentication and "
            "you keep the item; if it proves genuine, the return shipping is yours to pay. We "
            "follow case {case_number} for you.",
        ),
    },
    "damage_found": {
        "zh-hans": (
            "退货验收发现损坏",
            "亲爱的{customer_name}，您退回的商品已收到（售后单 {case_number}），"
            "验收时发现包装或商品有损坏、穿着或弄脏的痕迹。"
            "退款前我们想先向您说明情况，并与您协商处理方式，请您回复我们。",
        ),
        "en": (
            "Damage found on the return",
            "Dear {customer_name}, we have received your return (case {case_number}) and found "
            "the packaging or the item damaged, worn or soiled. Before we refund, we would like to "
            "tell you what we found and agree with you how to settle it; please reply to us.",
        ),
    },
    "out_of_stock": {
        "zh-hans": (
            "缺货处理",
            "亲爱的{customer_name}，非常抱歉，您的订单 {order_number} 中的商品暂时缺货。"
            "我们可以为您推荐同类商品，或给您一定优惠；如您愿意等待补货，到货后第一时间为您发出；"
            "如需退款，我们马上为您办理（售后单 {case_number}）。",
        ),
        "en": (
            "Out of stock",
            "Dear {customer_name}, we are sorry: the item of order {order_number} is out of stock. "
            "We can suggest a similar item or offer you a discount; if you would rather wait, we "
            "ship as soon as it is back, and if you want your money back we refund you at once "
            "(case {case_number}).",
        ),
    },
}
