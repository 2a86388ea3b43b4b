"""Target vs actual through the year as inline SVG, drawn on the server.

No script and no request leaves our server: the page carries the drawing. Values are
Decimals (or None where there is nothing to draw); labels are the periods' labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from perfplan.numbers import format_amount

from .formats import fmt_value

WIDTH, HEIGHT = 640, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 16, 28, 40
TARGET_COLOUR = "#6b7280"
ACTUAL_COLOUR = "#1f6fb2"
BAND_COLOUR = "#e5effa"


@dataclass
class ChartData:
    """What one chart shows: per period a label, a target and an actual (either may be None)."""

    labels: list
    targets: list
    actuals: list
    cumulative: bool
    unit: str = ""
    band: tuple | None = None  # (low, high) of a target range
    decimals: int | None = None  # the indicator's precision (indicators.formats), for values


def cumulative_sums(values, upto=None):
    """Running totals; None where the period has no value (the total so far is not known)."""
    out, total = [], Decimal(0)
    for index, value in enumerate(values):
        if value is None or (upto is not None and index >= upto):
            out.append(None)
            continue
        total += Decimal(value)
        out.append(total)
    return out


def _number(value, decimals=None):
    if decimals is not None:
        return fmt_value(value, decimals)
    return format_amount(Decimal(value).quantize(Decimal("0.01")).normalize())


def nice_ticks(low, high, count=5):
    """Round tick values covering [low, high]."""
    low, high = float(low), float(high)
    if high == low:
        high = low + (abs(low) or 1)
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [round(math.floor(low / step) * step, 10)]
    while ticks[-1] < high and len(ticks) <= 20:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _fmt(x):
    return f"{x:.1f}"


def _axes(data, labels, ticks, x, y, plot_w):
    """The grid with the y axis's ticks, the unit, the target range's band and the x labels."""
    parts = []
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{_fmt(ty)}" '
            f'y2="{_fmt(ty)}" stroke="#e5e7eb" stroke-width="1"/>'
            f'<text class="tick" x="{MARGIN_LEFT - 6}" y="{_fmt(ty + 4)}" text-anchor="end" '
            f'font-size="11" fill="#4b5563">{escape(_number(Decimal(str(tick))))}</text>'
        )
    if data.unit:
        parts.append(
            f'<text class="unit" x="{MARGIN_LEFT - 6}" y="{MARGIN_TOP - 12}" text-anchor="end" '
            f'font-size="11" fill="#4b5563">({escape(data.unit)})</text>'
        )
    if data.band and all(v is not None for v in data.band):
        top, bottom = y(max(data.band)), y(min(data.band))
        parts.append(
            f'<rect class="band" x="{MARGIN_LEFT}" y="{_fmt(top)}" width="{plot_w}" '
            f'height="{_fmt(max(bottom - top, 1))}" fill="{BAND_COLOUR}"/>'
        )
    for i, label in enumerate(labels):
        parts.append(
            f'<text class="period" x="{_fmt(x(i))}" y="{HEIGHT - MARGIN_BOTTOM + 16}" '
            f'text-anchor="middle" font-size="11" fill="#374151">{escape(label)}</text>'
        )
    return parts


def chart_svg(data: ChartData, *, css_id="", title=""):
    """A full chart: axes, ticks, target (dashed line) and actual (bars or a line)."""
    labels = list(data.labels)
    count = max(len(labels), 1)
    known = [Decimal(v) for v in [*data.targets, *data.actuals] if v is not None]
    if data.band:
        known += [Decimal(v) for v in data.band if v is not None]
    low = min([Decimal(0), *known])
    high = max([Decimal(0), *known]) or Decimal(1)
    ticks = nice_ticks(low, high)
    y_min, y_max = ticks[0], ticks[-1]
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    slot = plot_w / count

    def x(i):
        return MARGIN_LEFT + slot * (i + 0.5)

    def y(v):
        return MARGIN_TOP + plot_h - (float(v) - y_min) / ((y_max - y_min) or 1) * plot_h

    mode = _("running total") if data.cumulative else _("per period")
    aria = title or _("Target and actual by period (%(mode)s)") % {"mode": mode}
    actual_points = sum(1 for v in data.actuals if v is not None)
    id_attr = f' id="{escape(css_id)}"' if css_id else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tracking-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'data-mode="{"cumulative" if data.cumulative else "period"}" '
        f'data-actual-points="{actual_points}"{id_attr} '
        f'aria-label="{escape(aria)}">',
        f"<title>{escape(aria)}</title>",
    ]
    parts.extend(_axes(data, labels, ticks, x, y, plot_w))
    target_word, actual_word = _("target"), _("actual")
    # actual: bars per period, a line when cumulative
    if data.cumulative:
        parts.append(_polyline(data.actuals, x, y, "actual", ACTUAL_COLOUR, dashed=False))
    else:
        bar_w = min(slot * 0.5, 40)
        base = y(max(y_min, 0))
        for i, value in enumerate(data.actuals):
            if value is None:
                continue
            top = y(value)
            parts.append(
                f'<rect class="bar actual" x="{_fmt(x(i) - bar_w / 2)}" '
                f'y="{_fmt(min(top, base))}" width="{_fmt(bar_w)}" '
                f'height="{_fmt(max(abs(base - top), 1))}" fill="{ACTUAL_COLOUR}" '
                f'fill-opacity="0.8"><title>{escape(labels[i])} {escape(actual_word)} '
                f"{escape(_number(value, data.decimals))}</title></rect>"
            )
    parts.append(_polyline(data.targets, x, y, "target", TARGET_COLOUR, dashed=True))
    for i, value in enumerate(data.targets):
        if value is not None:
            parts.append(
                f'<circle class="point target" cx="{_fmt(x(i))}" cy="{_fmt(y(value))}" r="3" '
                f'fill="#fff" stroke="{TARGET_COLOUR}" stroke-width="1.5"><title>'
                f"{escape(labels[i])} {escape(target_word)} {escape(_number(value, data.decimals))}</title></circle>"
            )
    if data.cumulative:
        for i, value in enumerate(data.actuals):
            if value is not None:
                parts.append(
                    f'<circle class="point actual" cx="{_fmt(x(i))}" cy="{_fmt(y(value))}" r="4" '
                    f'fill="{ACTUAL_COLOUR}"><title>{escape(labels[i])} {escape(actual_word)} '
                    f"{escape(_number(value, data.decimals))}</title></circle>"
                )
    # legend
    lx = WIDTH - MARGIN_RIGHT - 150
    parts.append(
        f'<g class="legend" font-size="11" fill="#374151">'
        f'<line x1="{lx}" x2="{lx + 18}" y1="12" y2="12" stroke="{TARGET_COLOUR}" '
        f'stroke-width="2" stroke-dasharray="5 3"/><text x="{lx + 22}" y="16">'
        f"{escape(target_word)}</text>"
        f'<rect x="{lx + 70}" y="6" width="14" height="12" fill="{ACTUAL_COLOUR}"/>'
        f'<text x="{lx + 88}" y="16">{escape(actual_word)}</text></g>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _polyline(values, x, y, css, colour, *, dashed):
    """Line segments through consecutive known values (a gap where a value is missing)."""
    segments, current = [], []
    for i, value in enumerate(values):
        if value is None:
            if current:
                segments.append(current)
            current = []
            continue
        current.append(f"{_fmt(x(i))},{_fmt(y(value))}")
    if current:
        segments.append(current)
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return "".join(
        f'<polyline class="line {css}" points="{" ".join(points)}" fill="none" '
        f'stroke="{colour}" stroke-width="2"{dash}/>'
        for points in segments
    )


def sparkline_svg(data: ChartData, width=96, height=24):
    """A small line for the grid: target dashed, actual solid, the latest actual as a dot."""
    known = [Decimal(v) for v in [*data.targets, *data.actuals] if v is not None]
    count = max(len(data.labels), 1)
    actual_points = sum(1 for v in data.actuals if v is not None)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-hidden="true" '
        f'data-actual-points="{actual_points}">'
    )
    if not known:
        return mark_safe(head + "</svg>")
    low, high = float(min([Decimal(0), *known])), float(max(known)) or 1.0

    def x(i):
        return 2 + (width - 4) * (i + 0.5) / count

    def y(v):
        return height - 2 - (float(v) - low) / ((high - low) or 1) * (height - 4)

    body = _polyline(data.targets, x, y, "target", TARGET_COLOUR, dashed=True)
    body += _polyline(data.actuals, x, y, "actual", ACTUAL_COLOUR, dashed=False)
    last = max((i for i, v in enumerate(data.actuals) if v is not None), default=None)
    if last is not None:
        body += (
            f'<circle class="point actual" cx="{_fmt(x(last))}" '
            f'cy="{_fmt(y(data.actuals[last]))}" r="2.5" fill="{ACTUAL_COLOUR}"/>'
        )
    return mark_safe(head + body + "</svg>")
