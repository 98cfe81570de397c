"""The KPI exports: one row per case behind a report (the cases opened or ended in its period,
in the shops the caller reads), as a CSV file (``core.exports.csv_response``, formula-safe) or an
XLSX workbook (XlsxWriter); every export is logged (``ExportLog``: who, when, which filter, how
many rows), from the page and from the API alike.

The rows come from the feed's own records (``CaseTrack`` and the facts), so an export agrees with
the dashboard's figures: a case's kind, reason, platform and owner as the timeline last told
them, its times in the shop's time zone, its hours from the facts of its first response and end,
the refunds and compensation paid on it, its repair's parts and labour, the goods written off,
the shipping paid, the staff minutes and their cost, and its platform store."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from collections import defaultdict
from decimal import Decimal

import xlsxwriter
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Sum
from django.http import HttpResponse
from django.utils.translation import gettext as _

from aftersales.cases.choices import CaseKind, CaseState, Reason
from aftersales.cases.models import Case
from aftersales.catalog.models import Platform, Shop, Sku
from aftersales.connectors.models import Store
from aftersales.core import clock
from aftersales.core.actors import Principal
from aftersales.core.errors import InvalidInput
from aftersales.core.exports import csv_response
from aftersales.insights import selectors
from aftersales.insights.dashboards import Report
from aftersales.insights.models import CaseProduct, CaseTrack, ExportLog, Fact, Measure

# An export larger than this is refused: narrow the period or pick a shop.
MAX_ROWS = 100_000
FORMATS = ("csv", "xlsx")
CENT = Decimal("0.01")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def header() -> list[str]:
    return [
        _("Case"),
        _("Shop"),
        _("Kind"),
        _("Platform"),
        _("Reason"),
        _("Agent"),
        _("Opened (shop time)"),
        _("First response (shop time)"),
        _("Ended (shop time)"),
        _("Outcome"),
        _("First response, hours"),
        _("First response, business hours"),
        _("Resolution, hours"),
        _("Resolution, business hours"),
        _("Service levels met"),
        _("Refunded"),
        _("Compensation"),
        _("Repair parts"),
        _("Repair labour"),
        _("Goods written off"),
        _("Shipping paid"),
        _("Staff minutes"),
        _("Staff cost"),
        _("Currency"),
        _("Platform store"),
        _("SKUs"),
        _("Product categories"),
    ]


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def case_rows(
    *,
    actor: Principal,
    report: Report,
    measure: str | None = None,
    filters: selectors.Drill | None = None,
) -> list[list[object]]:
    """One row per case opened or ended in the report's period (its shops' local dates), or,
    with ``measure`` and ``filters``, per case behind that number of the dashboard (the same
    cases as the drill-down), in the order of the case numbers; times are the shop's local times
    (naive), hours decimal."""
    facts = selectors.drill_facts(
        actor=actor,
        measure=measure,
        shop=report.shop,
        since=report.since,
        until=report.until,
        filters=filters or selectors.Drill(),
    ).filter(case_id__isnull=False)
    case_ids = facts.values("case_id")
    if facts.values("case_id").distinct().count() > MAX_ROWS:
        raise InvalidInput(
            _("More than %(limit)s cases: pick a shop or a shorter period.") % {"limit": MAX_ROWS},
            code="export_too_large",
        )
    tracks = {track.case_id: track for track in CaseTrack.objects.filter(case_id__in=case_ids)}
    numbers = dict(Case.objects.filter(id__in=case_ids).values_list("id", "number"))
    ends = {
        fact.case_id: fact
        for fact in Fact.objects.filter(
            id__in=[track.ended_fact for track in tracks.values() if track.ended_fact]
        )
    }
    responses = {
        case_id: (seconds, business)
        for case_id, seconds, business in Fact.objects.filter(
            measure=Measure.FIRST_RESPONSE, case_id__in=case_ids
        )
        .order_by("id")
        .values_list("case_id", "seconds", "business_seconds")
    }
    paid: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for case_id, measure, amount in (
        Fact.objects.filter(
            measure__in=(
                Measure.REFUND,
                Measure.COMPENSATION,
                Measure.REPAIR_PARTS,
                Measure.REPAIR_LABOUR,
                Measure.WRITTEN_OFF,
                Measure.SHIPPING,
                Measure.STAFF_TIME,
            ),
            case_id__in=case_ids,
        )
        .values("case_id", "measure")
        .annotate(amount=Sum("amount"))
        .values_list("case_id", "measure", "amount")
    ):
        paid[case_id, measure] = Decimal(amount or 0).quantize(CENT)
    minutes = dict(
        Fact.objects.filter(measure=Measure.STAFF_TIME, case_id__in=case_ids)
        .values("case_id")
        .annotate(seconds=Sum("seconds"))
        .values_list("case_id", "seconds")
    )
    shops_by_id = {
        shop.pk: shop for shop in Shop.objects.filter(pk__in={t.shop_id for t in tracks.values()})
    }
    agents = {
        user.pk: user.get_full_name() or user.username
        for user in get_user_model().objects.filter(
            pk__in={t.agent_id for t in tracks.values()} - {None}
        )
    }
    stores = dict(
        Store.objects.filter(pk__in={t.store_id for t in tracks.values()} - {None}).values_list(
            "pk", "name"
        )
    )
    # The SKUs and categories the case named when the feed first met it (its product figures').
    named: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for case_id, sku_id, category in (
        CaseProduct.objects.filter(case_id__in=case_ids)
        .order_by("case_id", "sku_id")
        .values_list("case_id", "sku_id", "category")
    ):
        named[case_id].append((sku_id, category))
    sku_ids = {sku_id for found in named.values() for sku_id, _category in found}
    codes = dict(Sku.objects.filter(pk__in=sku_ids).values_list("pk", "code"))
    products = {
        case_id: [(codes.get(sku_id, str(sku_id)), category) for sku_id, category in found]
        for case_id, found in named.items()
    }
    rows = []
    for case_id, track in tracks.items():
        shop = shops_by_id[track.shop_id]
        zone = zoneinfo.ZoneInfo(shop.timezone)

        def local(moment: dt.datetime | None, zone=zone) -> dt.datetime | None:
            return None if moment is None else moment.astimezone(zone).replace(tzinfo=None)

        end = ends.get(case_id)
        response = responses.get(case_id)
        rows.append(
            [
                numbers.get(case_id, str(case_id)),
                shop.name,
                _label(CaseKind, track.kind),
                _label(Platform, track.platform) if track.platform else _("The shop's own"),
                _label(Reason, track.reason),
                agents.get(track.agent_id, "") if track.agent_id else _("No owner"),
                local(track.opened_at),
                local(track.first_response_at),
                local(track.ended_at),
                _label(CaseState, end.outcome) if end else "",
                _hours(response[0]) if response else None,
                _hours(response[1]) if response else None,
                _hours(end.seconds) if end else None,
                _hours(end.business_seconds) if end else None,
                (_("Yes") if end.within_sla else _("No")) if end else "",
                paid.get((case_id, Measure.REFUND), Decimal("0.00")),
                paid.get((case_id, Measure.COMPENSATION), Decimal("0.00")),
                paid.get((case_id, Measure.REPAIR_PARTS), Decimal("0.00")),
                paid.get((case_id, Measure.REPAIR_LABOUR), Decimal("0.00")),
                paid.get((case_id, Measure.WRITTEN_OFF), Decimal("0.00")),
                paid.get((case_id, Measure.SHIPPING), Decimal("0.00")),
                (minutes.get(case_id) or 0) // 60,
                paid.get((case_id, Measure.STAFF_TIME), Decimal("0.00")),
                shop.currency,
                stores.get(track.store_id, "") if track.store_id else "",
                ", ".join(code for code, _category in products.get(case_id, ())),
                ", ".join(
                    sorted({category for _code, category in products.get(case_id, ()) if category})
                ),
            ]
        )
    rows.sort(key=lambda row: row[0])
    return rows


def _csv_value(value: object) -> object:
    # A local time as people write it (the header says it is the shop's), not ISO 8601.
    return f"{value:%Y-%m-%d %H:%M}" if isinstance(value, dt.datetime) else value


def xlsx_bytes(head: list[str], rows: list[list[object]]) -> bytes:
    """A one-sheet workbook: the header in bold, times as dates, amounts as numbers. Text is
    written as text (never a formula), whatever it starts with."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = book.add_worksheet(_("Cases"))
    bold = book.add_format({"bold": True})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money = book.add_format({"num_format": "0.00"})
    sheet.write_row(0, 0, head, bold)
    for index, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(index, column, value, when)
            elif isinstance(value, Decimal):
                sheet.write_number(index, column, float(value), money)
            elif isinstance(value, (int, float)):
                sheet.write_number(index, column, value)
            else:
                sheet.write_string(index, column, str(value))
    sheet.freeze_panes(1, 1)
    sheet.set_column(0, len(head) - 1, 16)
    book.close()
    return buffer.getvalue()


def filter_record(measure: str | None, filters: selectors.Drill) -> dict[str, str]:
    """The export's filter as the log keeps it (the figure and the row's keys given)."""
    found = {"measure": measure} if measure else {}
    for name in selectors.Drill.__dataclass_fields__:
        value = getattr(filters, name)
        if value is not None:
            found[name] = value.isoformat() if isinstance(value, dt.date) else str(value)
    return found


@transaction.atomic
def export_log(
    *,
    actor: Principal,
    report: Report,
    file_format: str,
    rows: int,
    via: str,
    filters: dict[str, str] | None = None,
):
    """Record an export (PIPL: every export of case data is logged)."""
    return ExportLog.objects.create(
        filters=filters or {},
        user_id=actor.user_id,
        username=actor.username,
        via=via,
        file_format=file_format,
        shop_code=report.shop.code if report.shop else "",
        since=report.since,
        until=report.until,
        rows=rows,
        exported_at=clock.now(),
    )


def export_response(
    *,
    actor: Principal,
    report: Report,
    file_format: str,
    via: str,
    measure: str | None = None,
    filters: selectors.Drill | None = None,
) -> HttpResponse:
    """The export as a file to download, logged with its filter."""
    if file_format not in FORMATS:
        raise InvalidInput(_("Export as csv or xlsx."), code="invalid_format", field="format")
    rows = case_rows(actor=actor, report=report, measure=measure, filters=filters)
    head = header()
    scope = report.shop.code if report.shop else "all"
    filename = f"cases-{scope}-{report.since:%Y%m%d}-{report.until:%Y%m%d}.{file_format}"
    if file_format == "csv":
        response = csv_response(
            filename=filename,
            header=head,
            rows=([_csv_value(value) for value in row] for row in rows),
        )
    else:
        response = HttpResponse(xlsx_bytes(head, rows), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    export_log(
        actor=actor,
        report=report,
        file_format=file_format,
        rows=len(rows),
        via=via,
        filters=filter_record(measure, filters or selectors.Drill()),
    )
    return response
