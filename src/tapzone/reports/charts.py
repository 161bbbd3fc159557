"""Bar charts of a report as SVG and PNG, from one layout so both show the same picture.

Why no charting library: the reports need two plain horizontal bar charts. matplotlib would draw them but
brings numpy and some 40 MB of wheels for that; pygal writes SVG only and turns it into PNG through
cairosvg, which needs the Cairo C library that a clean machine does not have. Pillow (already a dependency
for receipts) rasterises the PNG, the SVG is written with the standard library, and both use PT Sans, the
font the receipts already ship, so text is measured once and fits in either format.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal
from xml.etree import ElementTree as ET

from PIL import Image, ImageDraw, ImageFont

from tapzone.i18n import format_money
from tapzone.reports.shapes import Bars

PNG_MEDIA_TYPE = "image/png"
SVG_MEDIA_TYPE = "image/svg+xml"

WIDTH = 800
MARGIN = 16
TITLE_HEIGHT = 48
ROW_HEIGHT = 32
BAR_HEIGHT = 20
TEXT_SIZE = 13
TITLE_SIZE = 16
LABEL_WIDTH_MAX = 260
VALUE_WIDTH_MAX = 180
PNG_SCALE = 2  # draw the PNG at twice the size so it stays sharp on high-density screens
FONT_FAMILY = "'PT Sans', 'DejaVu Sans', Arial, sans-serif"
_FONT_FILES = {False: "PT_Sans-Web-Regular.ttf", True: "PT_Sans-Web-Bold.ttf"}
INK = "#222222"
AXIS = "#888888"
POSITIVE = "#2f6f9f"
NEGATIVE = "#b5523b"

Anchor = Literal["start", "end"]


@dataclass(frozen=True, slots=True)
class _Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str


@dataclass(frozen=True, slots=True)
class _Text:
    x: float
    y: float  # the text's vertical middle
    text: str
    size: int
    anchor: Anchor
    bold: bool = False

    @property
    def width(self) -> float:
        return float(_font(self.size, self.bold).getlength(self.text))


@dataclass(frozen=True, slots=True)
class _Line:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True, slots=True)
class _Layout:
    width: int
    height: int
    title: str
    shapes: list[_Rect | _Text | _Line]


@cache
def _font_bytes(bold: bool) -> bytes:
    return (files("fontpkg_pt_sans") / "files" / _FONT_FILES[bold]).read_bytes()


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(io.BytesIO(_font_bytes(bold)), size)


def _text_width(text: str, size: int = TEXT_SIZE) -> float:
    return float(_font(size).getlength(text))


def _fit(text: str, width: float) -> str:
    """Shorten a label with an ellipsis until it fits its column."""
    if _text_width(text) <= width:
        return text
    while text and _text_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def layout(chart: Bars) -> _Layout:
    values = [value for _, value in chart.items]
    texts = [format_money(value, chart.currency, chart.language) for value in values]
    label_width = min(max([_text_width(label) for label, _ in chart.items] or [0.0]) + 12, LABEL_WIDTH_MAX)
    value_width = min(max([_text_width(text) for text in texts] or [0.0]) + 12, VALUE_WIDTH_MAX)
    left = MARGIN + label_width
    right = WIDTH - MARGIN - value_width
    rows = max(len(values), 1)
    height = TITLE_HEIGHT + rows * ROW_HEIGHT + MARGIN
    shapes: list[_Rect | _Text | _Line] = [_Text(MARGIN, TITLE_HEIGHT / 2, chart.title, TITLE_SIZE, "start", bold=True)]
    if not values:
        shapes.append(_Text(MARGIN, TITLE_HEIGHT + ROW_HEIGHT / 2, "No data", TEXT_SIZE, "start"))
        return _Layout(WIDTH, height, chart.title, shapes)
    low, high = min(0, *values), max(0, *values)
    span = (high - low) or 1
    scale = (right - left) / span

    def x_of(value: int) -> float:
        return left + (value - low) * scale

    zero = x_of(0)
    for index, ((label, value), text) in enumerate(zip(chart.items, texts, strict=True)):
        middle = TITLE_HEIGHT + index * ROW_HEIGHT + ROW_HEIGHT / 2
        end = x_of(value)
        colour = NEGATIVE if value < 0 else POSITIVE
        shapes.append(_Rect(min(zero, end), middle - BAR_HEIGHT / 2, abs(end - zero), BAR_HEIGHT, colour))
        shapes.append(_Text(left - 8, middle, _fit(label, label_width - 12), TEXT_SIZE, "end"))
        shapes.append(_Text(right + 8, middle, text, TEXT_SIZE, "start"))
    shapes.append(_Line(zero, TITLE_HEIGHT, zero, TITLE_HEIGHT + rows * ROW_HEIGHT))
    return _Layout(WIDTH, height, chart.title, shapes)


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def render_svg(chart: Bars) -> bytes:
    plan = layout(chart)
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": str(plan.width),
            "height": str(plan.height),
            "viewBox": f"0 0 {plan.width} {plan.height}",
            "role": "img",
            "font-family": FONT_FAMILY,
        },
    )
    ET.SubElement(svg, "title").text = plan.title
    ET.SubElement(svg, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
    for shape in plan.shapes:
        if isinstance(shape, _Rect):
            ET.SubElement(
                svg,
                "rect",
                {
                    "x": _number(shape.x),
                    "y": _number(shape.y),
                    "width": _number(shape.width),
                    "height": _number(shape.height),
                    "fill": shape.fill,
                },
            )
        elif isinstance(shape, _Line):
            ET.SubElement(
                svg,
                "line",
                {
                    "x1": _number(shape.x1),
                    "y1": _number(shape.y1),
                    "x2": _number(shape.x2),
                    "y2": _number(shape.y2),
                    "stroke": AXIS,
                },
            )
        else:
            node = ET.SubElement(
                svg,
                "text",
                {
                    "x": _number(shape.x),
                    "y": _number(shape.y),
                    "font-size": str(shape.size),
                    "text-anchor": shape.anchor,
                    "dominant-baseline": "central",
                    "fill": INK,
                },
            )
            if shape.bold:
                node.set("font-weight", "bold")
            # Pinned to the width measured in PT Sans: a viewer that substitutes another font squeezes or
            # stretches the text to fit instead of running it into the bars.
            node.set("textLength", _number(shape.width))
            node.set("lengthAdjust", "spacingAndGlyphs")
            node.text = shape.text
    text = ET.tostring(svg, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode("utf-8")


def render_png(chart: Bars) -> bytes:
    plan = layout(chart)
    s = PNG_SCALE
    image = Image.new("RGB", (plan.width * s, plan.height * s), "white")
    draw = ImageDraw.Draw(image)
    for shape in plan.shapes:
        if isinstance(shape, _Rect):
            if shape.width > 0:
                x, y = shape.x * s, shape.y * s
                draw.rectangle((x, y, x + shape.width * s, y + shape.height * s), fill=shape.fill)
        elif isinstance(shape, _Line):
            draw.line((shape.x1 * s, shape.y1 * s, shape.x2 * s, shape.y2 * s), fill=AXIS, width=s)
        else:
            anchor = "lm" if shape.anchor == "start" else "rm"
            font = _font(shape.size * s, shape.bold)
            draw.text((shape.x * s, shape.y * s), shape.text, font=font, fill=INK, anchor=anchor)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    png: bytes = out.getvalue()
    return png
