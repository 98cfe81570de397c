"""Return labels and packing slips (PDF, A6), so a parcel is identified on arrival
(《淘宝天猫售后有哪些技巧？售后处理技巧分享》, docs/domain.md).

The label carries the RMA number as Code128 and as QR, the order number, the customer's name and
phone, the shop's return address, the carrier and tracking number once known, the lines and
quantities expected, and the date by which the buyer must ship (the policy's timeout from the
approval). The packing slip goes inside the parcel with the same identification and the lines.
"""

from __future__ import annotations

import io
import zoneinfo
from functools import lru_cache
from importlib import resources

from django.utils.translation import gettext as _
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from aftersales.cases.choices import KINDS_WITH_GOODS, CaseState
from aftersales.cases.models import Case
from aftersales.core.errors import Conflict
from aftersales.policy import rules as policy_rules

# WenQuanYi Micro Hei, embedded (as the subset used): a label must print with its Chinese on any
# reader or label printer, and a font the reader is expected to supply (STSong) shows as boxes on
# those without Adobe's CJK pack.
FONT = "WenQuanYiMicroHei"
FONT_FILE = resources.files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc"
BARCODE_HEIGHT = 14 * mm
BAR_WIDTH = 0.3 * mm
# A label makes sense once the shop has given a return address, until the parcel is back.
LABEL_STATES = frozenset(
    {CaseState.AWAITING_RETURN, CaseState.RETURN_IN_TRANSIT, CaseState.INSPECTING}
)


@lru_cache
def _font() -> str:
    with resources.as_file(FONT_FILE) as path:
        pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
    return FONT


def ensure_label_available(case: Case) -> None:
    if case.kind not in KINDS_WITH_GOODS or case.return_address_id is None:
        raise Conflict(
            _("This case has no return shipment, so there is no label."),
            code="label_not_available",
        )
    if case.state not in LABEL_STATES:
        raise Conflict(
            _("The return of this case is over; there is no label to print."),
            code="label_not_available",
        )


def ship_by(case: Case):
    """The moment the buyer must have shipped by, in the shop's time zone."""
    deadline = case.approved_at + policy_rules.timeout(case.policy, "buyer_return_shipment")
    return deadline.astimezone(zoneinfo.ZoneInfo(case.shop.timezone))


def _codes(pdf: canvas.Canvas, number: str, x: float, y: float) -> None:
    barcode = code128.Code128(
        number, barHeight=BARCODE_HEIGHT, barWidth=BAR_WIDTH, humanReadable=False, quiet=False
    )
    barcode.drawOn(pdf, x, y)
    widget = qr.QrCodeWidget(number, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    size = 24 * mm
    drawing = Drawing(
        size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0]
    )
    drawing.add(widget)
    drawing.drawOn(pdf, A6[0] - size - 6 * mm, y - 4 * mm)


class _Writer:
    """Lines of text from the top of an A6 page."""

    def __init__(self, pdf: canvas.Canvas):
        self.pdf = pdf
        self.y = A6[1] - 10 * mm

    def line(self, text: str, size: float = 8.5, gap: float = 4.2 * mm) -> None:
        self.pdf.setFont(_font(), size)
        self.pdf.drawString(6 * mm, self.y, text[:60])
        self.y -= gap

    def space(self, height: float) -> None:
        self.y -= height


def _render(case: Case, *, packing_slip: bool) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A6)
    pdf.setTitle(f"{case.number}")
    pdf.setAuthor(case.shop.name)
    write = _Writer(pdf)
    title = _("Packing slip: put this inside the parcel") if packing_slip else _("Return label")
    write.line(f"{title} | {case.shop.name}", size=10, gap=6 * mm)
    write.line(_("RMA %(number)s") % {"number": case.number}, size=13, gap=3 * mm)
    write.space(BARCODE_HEIGHT + 2 * mm)
    _codes(pdf, case.number, 6 * mm, write.y + 2 * mm)
    write.space(4 * mm)
    write.line(_("Order: %(order)s") % {"order": case.order.external_id})
    customer = case.customer
    write.line(_("From: %(name)s  %(phone)s") % {"name": customer.name, "phone": customer.phone})
    address = case.return_address
    write.line(_("To: %(name)s  %(phone)s") % {"name": address.name, "phone": address.phone})
    write.line(f"    {address.address}")
    if case.return_tracking_number:
        write.line(
            _("Carrier: %(carrier)s  Tracking: %(tracking)s")
            % {"carrier": case.return_carrier, "tracking": case.return_tracking_number}
        )
    else:
        write.line(_("Carrier / tracking no.: ________________"))
    deadline = ship_by(case)
    write.line(
        _("Ship by: %(date)s (%(zone)s)")
        % {"date": deadline.strftime("%Y-%m-%d %H:%M"), "zone": case.shop.timezone}
    )
    write.space(1 * mm)
    write.line(_("Expected in the parcel:"))
    for line in case.lines.all():
        write.line(
            _("  %(sku)s  %(title)s  × %(quantity)s")
            % {
                "sku": line.order_line.sku.code,
                "title": line.order_line.title,
                "quantity": line.quantity,
            }
        )
    if packing_slip:
        write.space(1 * mm)
        write.line(_("Reason: %(reason)s") % {"reason": case.get_reason_display()})
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def label_pdf(case: Case) -> bytes:
    ensure_label_available(case)
    return _render(case, packing_slip=False)


def packing_slip_pdf(case: Case) -> bytes:
    ensure_label_available(case)
    return _render(case, packing_slip=True)
