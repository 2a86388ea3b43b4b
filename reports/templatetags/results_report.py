"""The report's indicator rows, written in Python: a national plan has 10,000 of them, and
Django's template engine takes seconds over what this does in a fraction of one (the rest of
the document stays in templates/reports/_document.html)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()


def _text_html(text):
    # linebreaksbr: escaped, newlines as <br>
    return escape(text).replace("\n", "<br>")


@register.simple_tag
def indicator_rows(lines, edit_links=False):
    """The <tr> of each IndicatorLine (reports.report), escaped."""
    required = escape(_("required, not written"))
    sample = escape(_("sample"))
    write = escape(_("write / review"))
    text_url = reverse("reports:text", args=[0])[: -len("0/")] if edit_links else ""
    out = []
    for line in lines:
        indicator, text = line.indicator, line.text
        classes = f"status-{line.status}" + (" is-sample" if line.is_sample else "")
        unit = f' <span class="unit">({escape(indicator.unit)})</span>' if indicator.unit else ""
        mark = f'<span class="sample-mark">{sample}</span>' if line.is_sample else ""
        if text is not None and text.shortfall_reason:
            reason = _text_html(text.shortfall_reason)
        elif line.required:
            reason = f'<span class="missing-text">{required}</span>'
        else:
            reason = ""
        plan_text = _text_html(text.improvement_plan) if text is not None else ""
        if text is not None:
            plan_text += f'<span class="text-status">{escape(text.get_status_display())}</span>'
        if edit_links:
            plan_text += (
                f' <a class="no-print text-link" href="{text_url}{indicator.pk}/">{write}</a>'
            )
        out.append(
            f'<tr id="ind-{indicator.pk}" class="{classes}">'
            f'<th scope="row" class="c-name">{escape(indicator.name)}{unit}'
            f'<span class="aggregation">{escape(line.aggregation_note)}</span>{mark}</th>'
            f'<td class="num">{escape(line.target_text) or "—"}</td>'
            f'<td class="num">{escape(line.actual_text) or "—"}</td>'
            f'<td class="num">{escape(line.rate_text) or "—"}</td>'
            f'<td class="status">{escape(line.status_label)}</td>'
            f'<td class="c-trend">{escape(line.trend_text)}</td>'
            f'<td class="c-text">{reason}</td>'
            f'<td class="c-text">{plan_text}</td></tr>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped
