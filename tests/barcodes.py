"""Read a Code128 barcode back out of a PDF, the way a scanner would: from the bars as drawn.

The bars are the filled rectangles of the barcode's height in the page's content stream; their
widths and the gaps between them, in modules, spell Code128 symbols, which are decoded with the
code sets and the checksum verified. Nothing here looks at what the label was asked to print.
"""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.graphics.barcode.code128 import _patterns, setb, setc

PATTERN_TO_VALUE = {pattern: value for value, pattern in _patterns.items()}
B_BY_VALUE = {
    value: char for char, value in setb.items() if isinstance(char, str) and len(char) == 1
}
C_BY_VALUE = {value: key for key, value in setc.items() if isinstance(key, str) and len(key) == 2}
START_B, START_C, STOP = 104, 105, 106
TO_B, TO_C = 100, 99


def bars(pdf: bytes, height: float) -> list[tuple[float, float]]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    stream = ContentStream(page.get_contents(), page.pdf)
    found = []
    for operands, operator in stream.operations:
        if operator == b"re" and abs(float(operands[3]) - height) < 0.01:
            found.append((float(operands[0]), float(operands[2])))
    return sorted(found)


def decode(pdf: bytes, *, height: float, module: float) -> str:
    rects = bars(pdf, height)
    elements = []
    for index, (x, width) in enumerate(rects):
        elements.append("ABCD"[round(width / module) - 1])
        if index + 1 < len(rects):
            gap = rects[index + 1][0] - (x + width)
            elements.append("abcd"[round(gap / module) - 1])
    text = "".join(elements)
    values = [PATTERN_TO_VALUE[text[i : i + 6]] for i in range(0, len(text) - 7, 6)]
    assert text[-7:] == _patterns[STOP], "no stop pattern"
    *data, checksum = values
    assert checksum == (data[0] + sum(i * v for i, v in enumerate(data[1:], start=1))) % 103
    decoded, table = [], {START_B: B_BY_VALUE, START_C: C_BY_VALUE}[data[0]]
    for value in data[1:]:
        if value == TO_C and table is B_BY_VALUE:
            table = C_BY_VALUE
        elif value == TO_B and table is C_BY_VALUE:
            table = B_BY_VALUE
        else:
            decoded.append(table[value])
    return "".join(decoded)


def text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def qr_runs_in_pdf(pdf: bytes, value: str) -> set[tuple[int, int, int]]:
    """The dark runs (row, column, length) of the QR code drawn in the PDF, in modules."""
    from reportlab.graphics.barcode import qr

    widget = qr.QrCodeWidget(value, barLevel="M")
    widget.qr.make()
    count, border = widget.qr.getModuleCount(), widget.barBorder
    size = float(min(widget.barWidth, widget.barHeight))
    box = size / (count + border * 2.0)
    offset_x = widget.x + (widget.barWidth - size) / 2.0
    offset_y = widget.y + (size - widget.barHeight) / 2.0
    runs = set()
    for x, y, width in _rects_of_height(pdf, box):
        row = round((offset_y + widget.barHeight - y) / box - border - 1)
        column = round((x - offset_x) / box - border)
        runs.add((row, column, round(width / box)))
    return runs


def qr_runs_expected(value: str) -> set[tuple[int, int, int]]:
    """The dark runs of the QR code that encodes ``value``."""
    import itertools

    from reportlab.graphics.barcode import qr

    widget = qr.QrCodeWidget(value, barLevel="M")
    widget.qr.make()
    runs = set()
    for row, modules in enumerate(widget.qr.modules):
        column = 0
        for dark, group in itertools.groupby(map(bool, modules)):
            length = len(list(group))
            if dark:
                runs.add((row, column, length))
            column += length
    return runs


def _rects_of_height(pdf: bytes, height: float) -> list[tuple[float, float, float]]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    stream = ContentStream(page.get_contents(), page.pdf)
    return [
        (float(operands[0]), float(operands[1]), float(operands[2]))
        for operands, operator in stream.operations
        if operator == b"re" and abs(float(operands[3]) - height) < 1e-6
    ]
