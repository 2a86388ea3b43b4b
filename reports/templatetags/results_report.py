"""The report's indicator rows, written in Python: a national plan has 10,000 of them, and
Django's template engine takes seconds over what this does in a fraction of one (the rest of
the document stays in templates/reports/_document.html)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from indicators.formats import fmt_value

register = template.Library()


class _Labels(dict):
    """Each label (a lazy translation) read and escaped once per table: reading a lazy
    string looks up the active language every time, 120,000 times for a national plan.
    Keyed by what names it (a lazy string's hash would translate it again)."""

    def of(self, kind, key, label):
        found = self.get((kind, key))
        if found is None:
            found = self[kind, key] = escape(str(label))
        return found


def _text_html(text):
    # as linebreaksbr: escaped, newlines as <br>
    return escape(text).replace("\n", "<br>")


def _trend(cells, labels):
    return " · ".join(
        f"{labels.of('period', cell.period.key, cell.period.label)} {fmt_value(cell.value) or '—'}"
        for cell in cells
    )


# The indicator table's header: (msgid, the cell's class)
HEADERS = (
    ("indicator", "c-name"),
    ("target", "c-figure"),
    ("year-end actual", "c-figure"),
    ("achievement rate", "c-figure"),
    ("status", "c-status"),
    ("trend", "c-trend"),
    ("shortfall reason (미달성 사유)", "c-text"),
    ("improvement plan (향후 개선방안)", "c-text"),
)


class _Words:
    """The table's fixed words and header, translated once per document."""

    def __init__(self, edit_links):
        self.required = escape(_("required, not written"))
        self.sample = escape(_("sample"))
        self.write = escape(_("write / review"))
        cells = "".join(
            f'<th scope="col" class="{css}">{escape(_(msgid))}</th>' for msgid, css in HEADERS
        )
        self.thead = f"<thead><tr>{cells}</tr></thead>"
        self.rate = escape(_("average achievement rate"))
        self.strategic = escape(_("Strategic goal"))
        self.policy = escape(_("Policy program goal"))
        self.budget = escape(_("budget"))
        self.million = escape(_("million won"))
        self.share = escape(_("share"))
        # /admin/reports/text/<id>/ without reversing it 10,000 times
        self.text_url = reverse("reports:text", args=[0])[: -len("0/")] if edit_links else ""


def _texts_html(line, words, labels):
    text = line.text
    if text is not None and text.shortfall_reason:
        reason = _text_html(text.shortfall_reason)
    elif line.required:
        reason = f'<span class="missing-text">{words.required}</span>'
    else:
        reason = ""
    plan_text = ""
    if text is not None:
        status = labels.get(("text", text.status)) or labels.of(
            "text", text.status, text.get_status_display()
        )
        plan_text = f'{_text_html(text.improvement_plan)}<span class="text-status">{status}</span>'
    if words.text_url:
        plan_text += (
            f' <a class="no-print text-link" href="{words.text_url}{line.indicator.pk}/">'
            f"{words.write}</a>"
        )
    return reason, plan_text


def _words(context, edit_links):
    """The document's words (translated once: a national plan has 2,500 tables)."""
    words = context.render_context.get("report_words")
    if words is None or bool(words.text_url) != bool(edit_links):
        words = context.render_context["report_words"] = _Words(edit_links)
    return words, context.render_context.setdefault("report_labels", _Labels())


def _summary(section, words):
    summary = section.summary
    return f"{escape(summary.text) or '—'} · {words.rate} {summary.mean_rate_text or '—'}"


def _budget(section, words, *, always=True):
    if section.budget is None and not always:
        return f"{words.budget} —"
    return (
        f"{words.budget} {section.budget_text or '—'} {words.million} "
        f"({words.share} {section.share_text or '—'})"
    )


@register.simple_tag(takes_context=True)
def department_sections(context, department, edit_links=False):
    """A department's summary, then each strategic goal and policy goal with its summary,
    budget and share and its indicator table (reports.report.DepartmentSection)."""
    words, labels = _words(context, edit_links)
    out = [f'<p class="department-summary">{_summary(department, words)}</p>']
    for sg in department.strategic_goals:
        out.append(
            f'<div class="report-goal"><h3 class="strategic-goal">{words.strategic}: '
            f"{escape(sg.goal.name)}</h3>"
            f'<p class="goal-summary">{_budget(sg, words)} · {_summary(sg, words)}</p>'
        )
        for pg in sg.policy_goals:
            out.append(
                f'<h4 class="policy-goal">{words.policy}: {escape(pg.goal.name)}</h4>'
                f'<p class="goal-summary">{_budget(pg, words, always=False)} · '
                f"{_summary(pg, words)}</p>"
            )
            if pg.lines:
                out.append(_table(pg.lines, words, labels))
        out.append("</div>")
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped


def _table(lines, words, labels):
    """The table of IndicatorLines: the header, a row each, every value escaped."""
    out = []
    for line in lines:
        indicator, row = line.indicator, line.row
        classes = f"status-{row.status}" + (" is-sample" if line.is_sample else "")
        unit = f' <span class="unit">({escape(indicator.unit)})</span>' if indicator.unit else ""
        mark = f'<span class="sample-mark">{words.sample}</span>' if line.is_sample else ""
        note = labels.of("aggregation", line.aggregation, line.aggregation_note)
        reason, plan_text = _texts_html(line, words, labels)
        out.append(
            f'<tr id="ind-{indicator.pk}" class="{classes}">'
            f'<th scope="row" class="c-name">{escape(indicator.name)}{unit}'
            f'<span class="aggregation">{note}</span>{mark}</th>'
            f'<td class="num">{escape(line.target_text) or "—"}</td>'
            f'<td class="num">{escape(line.actual_text) or "—"}</td>'
            f'<td class="num">{escape(line.rate_text) or "—"}</td>'
            f'<td class="status">{labels.of("status", row.status, line.status_label)}</td>'
            f'<td class="c-trend">{_trend(row.cells, labels)}</td>'
            f'<td class="c-text">{reason}</td>'
            f'<td class="c-text">{plan_text}</td></tr>'
        )
    body = "\n".join(out)
    table = (
        f'<table class="report-table indicator-table">{words.thead}<tbody>{body}</tbody></table>'
    )
    return mark_safe(table)  # noqa: S308 - every value above is escaped
