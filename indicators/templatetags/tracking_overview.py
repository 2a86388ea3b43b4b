"""The plan overview's department and strategic goal lines, written in Python.

A whole plan has some 250 department and 750 goal lines of twenty cells each; through the
template engine they took most of the page's time (bench/tracking_views.py). The tags write
what the template wrote for each line, escaped the same way (tracking_grid._escape).
"""

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .tracking_grid import _escape

register = template.Library()
DASH = "—"


def _counts(line):
    summary = line["summary"]
    return "".join(
        f'<td class="num" data-status="{_escape(s["key"])}">{s["count"]}</td>'
        for s in summary["statuses"]
    )


def _distribution(line, labels):
    buckets = line["buckets"]
    title = " · ".join(f"{labels[b['key']]}: {b['count']}" for b in buckets)
    bars = "".join(
        f'<span class="b{b["index"]}" style="width: {b["width"]}%"></span>' for b in buckets
    )
    return f'<td class="bar-cell"><div class="distribution" title="{title}">{bars}</div></td>'


def _missing(line, indicator_url):
    entries = line["missing_last"]
    if not entries:
        return DASH
    count = len(entries)
    summary = ngettext("%(counter)s indicator", "%(counter)s indicators", count) % {
        "counter": count
    }
    items = "".join(
        f'<li><a href="{indicator_url % e.indicator_id}">{_escape(e.name)}'
        f"</a> ({_escape(e.period.label)})</li>"
        for e in entries
    )
    return f"<details><summary>{_escape(summary)}</summary>\n      <ul>{items}</ul></details>"


def _text(value):
    return _escape(value) if value else DASH


def _bucket_labels(lines):
    return {b["key"]: _escape(b["label"]) for b in lines[0]["buckets"]} if lines else {}


@register.simple_tag
def department_lines(lines):
    """The <tr> of each department line (indicators.views._group_line)."""
    if not lines:
        return mark_safe(f'<tr><td colspan="13">{_escape(_("No indicators match."))}</td></tr>')
    labels = _bucket_labels(lines)
    indicator_url = _indicator_url()
    rows = []
    for line in lines:
        key = line["key"]
        rows.append(
            f'<tr data-department="{key.department_id}">\n'
            f'    <th scope="row">{_escape(key.name)}</th>\n'
            f'    <td class="num">{line["summary"]["total"]}</td>\n'
            f"    {_counts(line)}\n"
            f"    {_distribution(line, labels)}\n"
            f'    <td class="num">{_text(line["mean_rate_text"])}</td>\n'
            f'    <td class="num">{_text(line["share_text"])}</td>\n'
            f'    <td class="num">{_text(line["completeness_text"])}</td>\n'
            f'    <td class="missing-last">{_missing(line, indicator_url)}</td>\n'
            f'    <td class="num{" at-risk" if line["at_risk"] else ""}">{line["at_risk"]}</td>\n'
            f"  </tr>"
        )
    return mark_safe("\n  ".join(rows))


@register.simple_tag
def goal_lines(lines):
    """The <tr> of each strategic goal line (indicators.views._group_line)."""
    if not lines:
        return mark_safe(f'<tr><td colspan="12">{_escape(_("No indicators match."))}</td></tr>')
    share_title = _escape(_("budget share (%)"))
    rate_title = _escape(_("average achievement rate"))
    rows = []
    for line in lines:
        key = line["key"]
        bars = ""
        if line["share"] is not None:
            bars += (
                f'<span class="hbar share" style="width: {line["share_width"]}px" '
                f'title="{share_title} {_escape(line["share_text"])}"></span><br>'
            )
        if line["mean_rate"] is not None:
            bars += (
                f'<span class="hbar" style="width: {line["rate_width"]}px" '
                f'title="{rate_title} {_escape(line["mean_rate_text"])}"></span>'
            )
        rows.append(
            f'<tr data-goal="{key.pk}">\n'
            f'    <th scope="row">{_escape(key.name)} <span class="quiet">'
            f"({_escape(key.department_name)})</span></th>\n"
            f'    <td class="num">{_text(line["budget_text"])}</td>\n'
            f'    <td class="num">{_text(line["share_text"])}</td>\n'
            f'    <td class="num">{_text(line["mean_rate_text"])}</td>\n'
            f'    <td class="bar-cell">{bars}</td>\n'
            f'    <td class="num">{line["summary"]["total"]}</td>\n'
            f"    {_counts(line)}\n"
            f'    <td class="num">{_text(line["completeness_text"])}</td>\n'
            f"  </tr>"
        )
    return mark_safe("\n  ".join(rows))


def _indicator_url():
    """The indicator page's address as a %d pattern (one reverse() for every link)."""
    head, sep, tail = reverse("tracking:indicator", args=[0]).rpartition("/0/")
    return head.replace("%", "%%") + "/%d/" + tail.replace("%", "%%")
