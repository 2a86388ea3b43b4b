"""The plan overview's department and strategic goal lines, written in Python.

A whole plan has some 250 department and 750 goal lines of twenty cells each; through the
template engine they took most of the page's time (bench/tracking_views.py). The tags write
the markup of each line (indicators.overview.Line) from its counts, escaped as the template
escapes (perfplan.html.escape).
"""

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from perfplan.html import escape
from perfplan.numbers import format_amount, format_share

from ..tracking.rules import BUCKETS, STATUSES
from .tracking_grid import _indicator_url

register = template.Library()
DASH = "—"


def _rate(value):
    return DASH if value is None else f"{format_share(value)}%"


def _counts(tally):
    counts = tally.by_status
    return "".join(f'<td class="num" data-status="{s}">{counts[s]}</td>' for s in STATUSES)


def _distribution(tally, labels):
    counts = tally.buckets
    total = sum(counts.values()) or 1
    title = " · ".join(f"{labels[key]}: {counts[key]}" for key, *_rest in BUCKETS)
    bars = "".join(
        f'<span class="b{index}" style="width: {round(counts[key] * 100 / total, 1)}%"></span>'
        for index, (key, *_rest) in enumerate(BUCKETS)
    )
    return f'<td class="bar-cell"><div class="distribution" title="{title}">{bars}</div></td>'


def _missing(line, indicator_url, period_labels, year):
    entries, count = line.missing_last, line.missing_count
    if not count:
        return DASH
    summary = ngettext("%(counter)s indicator", "%(counter)s indicators", count) % {
        "counter": count
    }
    if not entries:  # too many on the page: the department's own overview names them
        return (
            f'<a href="?year={year}&amp;department={line.key.department_id}#by-department">'
            f"{escape(summary)}</a>"
        )
    items = "".join(
        f'<li><a href="{indicator_url % e.indicator_id}">{escape(e.name)}</a> '
        f"({_period_label(e.period, period_labels)})</li>"
        for e in entries
    )
    return f"<details><summary>{escape(summary)}</summary>\n      <ul>{items}</ul></details>"


def _period_label(period, labels):
    """The period's label, escaped once per page (most missing entries share a period)."""
    label = labels.get(period.key)
    if label is None:
        label = labels[period.key] = escape(period.label)
    return label


def _share(line):
    return DASH if line.share is None else format_share(line.share)


@register.simple_tag
def department_lines(lines, year):
    """The <tr> of each department line; a department's name opens its own overview."""
    if not lines:
        return mark_safe(f'<tr><td colspan="13">{escape(_("No indicators match."))}</td></tr>')
    labels = {key: escape(label) for key, label, *_rest in BUCKETS}
    indicator_url = _indicator_url()
    period_labels = {}
    rows = []
    for line in lines:
        key, tally = line.key, line.tally
        rows.append(
            f'<tr data-department="{key.department_id}">\n'
            f'    <th scope="row"><a href="?year={year}&amp;department={key.department_id}">'
            f"{escape(key.name)}</a></th>\n"
            f'    <td class="num">{tally.total}</td>\n'
            f"    {_counts(tally)}\n"
            f"    {_distribution(tally, labels)}\n"
            f'    <td class="num">{_rate(tally.mean_rate)}</td>\n'
            f'    <td class="num">{_share(line)}</td>\n'
            f'    <td class="num">{_rate(tally.completeness)}</td>\n'
            f'    <td class="missing-last">{_missing(line, indicator_url, period_labels, year)}</td>\n'
            f'    <td class="num{" at-risk" if tally.at_risk else ""}">{tally.at_risk}</td>\n'
            f"  </tr>"
        )
    return mark_safe("\n  ".join(rows))


@register.simple_tag
def goal_lines(lines):
    """The <tr> of each strategic goal line: its budget share beside its achievement."""
    if not lines:
        return mark_safe(f'<tr><td colspan="12">{escape(_("No indicators match."))}</td></tr>')
    share_title = escape(_("budget share (%)"))
    rate_title = escape(_("average achievement rate"))
    rows = []
    for line in lines:
        key, tally = line.key, line.tally
        mean_rate = tally.mean_rate
        bars = ""
        if line.share is not None:
            # bar lengths in px: the share (0–100 %) over 200 px, the rate (capped at 150 %) too
            bars += (
                f'<span class="hbar share" style="width: {round(float(line.share) * 2)}px" '
                f'title="{share_title} {_share(line)}"></span><br>'
            )
        if mean_rate is not None:
            width = round(min(float(mean_rate), 150) * 200 / 150)
            bars += (
                f'<span class="hbar" style="width: {width}px" '
                f'title="{rate_title} {_rate(mean_rate)}"></span>'
            )
        budget = DASH if line.budget is None else format_amount(line.budget)
        rows.append(
            f'<tr data-goal="{key.pk}">\n'
            f'    <th scope="row">{escape(key.name)} <span class="quiet">'
            f"({escape(key.department_name)})</span></th>\n"
            f'    <td class="num">{budget}</td>\n'
            f'    <td class="num">{_share(line)}</td>\n'
            f'    <td class="num">{_rate(mean_rate)}</td>\n'
            f'    <td class="bar-cell">{bars}</td>\n'
            f'    <td class="num">{tally.total}</td>\n'
            f"    {_counts(tally)}\n"
            f'    <td class="num">{_rate(tally.completeness)}</td>\n'
            f"  </tr>"
        )
    return mark_safe("\n  ".join(rows))


@register.simple_tag
def at_risk_lines(items):
    """The <tr> of each indicator of the at-risk list (indicators.views.overview.at_risk_items)."""
    if not items:
        text = escape(_("No indicator is projected to miss its target."))
        return mark_safe(f'<tr><td colspan="6" id="no-risk">{text}</td></tr>')
    indicator_url = _indicator_url()
    badge = f' <span class="sample-badge">{escape(_("Sample data"))}</span>'
    rows = []
    for item in items:
        indicator = item["indicator"]
        rows.append(
            f'<tr data-indicator="{indicator.pk}">\n'
            f"    <td>{escape(item['department_name'])}</td>\n"
            f'    <td><a href="{indicator_url % indicator.pk}">{escape(indicator.name)}</a>'
            f"{badge if item['is_sample'] else ''}</td>\n"
            f'    <td class="num">{escape(item["target"])}</td>\n'
            f'    <td class="num">{escape(item["projected"])}</td>\n'
            f'    <td class="num at-risk">{escape(item["rate"])}</td>\n'
            f'    <td class="quiet">{escape(item["method"])}</td>\n'
            f"  </tr>"
        )
    return mark_safe("\n  ".join(rows))
