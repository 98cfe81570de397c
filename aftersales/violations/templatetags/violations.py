"""``{% penalty_banner %}``: the desk's banner while a penalty is in force on one of the
signed-in member's shops (one query; nothing for a platform operator, who reads every shop),
its end in the shop's time zone."""

from __future__ import annotations

from django import template

from aftersales.core import clock
from aftersales.core.timeline import readable_time
from aftersales.violations.selectors import penalties_in_force

register = template.Library()


@register.inclusion_tag("violations/_banner.html", takes_context=True)
def penalty_banner(context) -> dict:
    principal = context.get("principal")
    if principal is None or principal.shop_ids is None or not principal.is_staff:
        return {"penalties": []}
    return {
        "penalties": [
            {
                "number": penalty.number,
                "shop": penalty.shop.name,
                "code": penalty.shop.code,
                "ends_at": penalty.ends_at,
                "ends_local": readable_time(penalty.ends_at, penalty.shop.timezone)
                if penalty.ends_at
                else "",
            }
            for penalty in penalties_in_force(shop_ids=principal.shop_ids, now=clock.now())
        ]
    }
