"""Business hours, service-level targets and "% met" over HTTP: staff read, administrators
write; customers are refused."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from aftersales.catalog import selectors as catalog
from aftersales.core.schemas import ERROR_RESPONSES
from aftersales.sla import selectors, services
from aftersales.sla.hours import HoursIn
from aftersales.sla.schemas import HoursOut, ReportOut, TargetsIn, TargetsOut

router = Router(tags=["service levels"])


def _shop(request: HttpRequest, code: str):
    selectors.staff_only(request.auth)
    return catalog.shop_get(actor=request.auth, code=code)


@router.get("/shops/{code}/business-hours", response={200: HoursOut, **ERROR_RESPONSES})
def get_business_hours(request: HttpRequest, code: str):
    return selectors.hours_get(actor=request.auth, shop=_shop(request, code))


@router.put("/shops/{code}/business-hours", response={200: HoursOut, **ERROR_RESPONSES})
def put_business_hours(request: HttpRequest, code: str, payload: HoursIn):
    shop = _shop(request, code)
    services.business_hours_set(actor=request.auth, shop=shop, hours=payload)
    return selectors.hours_get(actor=request.auth, shop=shop)


@router.get("/shops/{code}/sla-targets", response={200: TargetsOut, **ERROR_RESPONSES})
def get_sla_targets(request: HttpRequest, code: str):
    return selectors.targets_get(actor=request.auth, shop=_shop(request, code))


@router.put("/shops/{code}/sla-targets", response={200: TargetsOut, **ERROR_RESPONSES})
def put_sla_targets(request: HttpRequest, code: str, payload: TargetsIn):
    shop = _shop(request, code)
    services.targets_set(actor=request.auth, shop=shop, data=payload)
    return selectors.targets_get(actor=request.auth, shop=shop)


class ReportQuery(Schema):
    shop: str = Field(..., max_length=40)
    since: dt.date = Field(..., alias="from")
    until: dt.date = Field(..., alias="to")


@router.get("/sla/report", response={200: ReportOut, **ERROR_RESPONSES})
def sla_report(request: HttpRequest, query: Query[ReportQuery]):
    shop = _shop(request, query.shop)
    return selectors.report(actor=request.auth, shop=shop, since=query.since, until=query.until)
