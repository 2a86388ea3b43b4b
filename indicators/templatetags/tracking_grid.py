"""The results grid's period cells, written in Python.

A department's grid has some 500 cells of a dozen fields each; through the template engine
they took most of the page's time (bench/tracking_views.py). `{% grid_cells line %}` writes
exactly what the template wrote for each cell of a GridRow (indicators.views.grid), escaped the
same way, with the page's CSRF token and address.
"""

import hashlib

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from perfplan.html import escape

register = template.Library()
PAGE = "tracking_grid_page"  # the page's constants, kept in the template's render context


_escape = escape  # as the template escapes a variable, faster


def _texts():
    return {
        key: _escape(text)
        for key, text in (
            ("note", _("Note and evidence")),
            ("sample", _("Sample data")),
            ("reason_label", _("Reason for return:")),
            ("submit", _("Submit (제출)")),
            ("approve", _("Approve (승인)")),
            ("return", _("Return (반려)")),
            ("reason_return", _("Reason for return (the officer sees it)")),
            ("return_with", _("Return with this reason")),
            ("reopen", _("Reopen (다시 열기)")),
            ("reason_reopen", _("Reason for reopening (kept in the change log)")),
            ("reopen_with", _("Reopen with this reason")),
            ("lower", "↓ " + _("lower is better")),
            ("range", "↔ " + _("target range")),
        )
    }


def _review(gc, pk, key, texts, page):
    # Written without indentation: a national page has thousands of cells (issue 16).
    parts = ['<div class="cell-review no-print">']
    if gc.submit_button:
        parts.append(
            f'<button type="submit" form="review-submit-form" name="cell" value="{pk}:{key}" '
            f'class="review-button submit" id="submit-{pk}-{key}"'
            f"{' hidden' if gc.submit_button == 'hidden' else ''}>{texts['submit']}</button>"
        )
    if gc.review_buttons:
        parts.append(
            f'<button type="submit" form="review-approve-form" name="cell" value="{pk}:{key}" '
            f'class="review-button approve" id="approve-{pk}-{key}">{texts["approve"]}</button>'
        )
        parts.append(_reason_box(pk, key, "return", texts, page))
    if gc.reopen_button:
        parts.append(_reason_box(pk, key, "reopen", texts, page))
    parts.append("</div>")
    return "".join(parts)


def _reason_box(pk, key, step, texts, page):
    """A step that needs a reason (반려, 다시 열기): a button that opens its small form."""
    return (
        f'<details class="return-box" id="{step}-{pk}-{key}"><summary '
        f'class="review-button {step}">{texts[step]}</summary>'
        f'<form method="post" action="{page["review_url"]}" '
        f'class="review-form return-form" id="{step}-form-{pk}-{key}">{page["csrf"]}'
        f'<input type="hidden" name="step" value="{step}"><input type="hidden" '
        f'name="cell" value="{pk}:{key}"><input type="hidden" name="next" '
        f'value="{page["next"]}">'
        f'<label for="{step}-reason-{pk}-{key}">{texts["reason_" + step]}</label>'
        f'<textarea name="reason" id="{step}-reason-{pk}-{key}" rows="3" required></textarea>'
        f'<button type="submit" class="review-button {step}" '
        f'id="{step}-submit-{pk}-{key}">{texts[step + "_with"]}</button>'
        f"</form></details>"
    )


def _lock_id(page, reason):
    """The id of the page's one copy of a lock reason (the cells point to it with
    aria-describedby instead of repeating it: a closed month's reason is some 300 bytes)."""
    locks = page["locks"]
    lock_id = locks.get(reason)
    if lock_id is None:
        digest = hashlib.sha1(reason.encode(), usedforsecurity=False).hexdigest()[:10]
        lock_id = locks[reason] = f"lock-{digest}"
    return lock_id


def _cell(gc, pk, texts, page):
    cell = gc.cell
    key = _escape(cell.period.key)
    state = _escape(gc.state)
    value = _escape(gc.input_value)
    classes = ("" if cell.is_due else " not-due") + (" missing" if cell.is_missing else "")
    readonly = (
        "" if gc.editable else f' readonly aria-describedby="{_lock_id(page, gc.lock_reason)}"'
    )
    url = _escape(page["cell_url"](pk, cell.period.key))
    reason = _escape(gc.return_reason) if gc.return_reason else ""
    reason_title = f' title="{reason}"' if reason else ""
    sample = ""
    if gc.is_sample:
        sample = (" · " if gc.state else "") + f'<span class="sample-mark">{texts["sample"]}</span>'
    # Named by its row's indicator and its column's period (aria-labelledby); its
    # data-saved, data-indicator and data-period are set by grid.js from its value and id.
    return "".join(
        (
            f'<td class="cell{classes}" data-period="{key}" data-state="{state}">'
            f'<div class="cell-box"><input class="cell-input" inputmode="decimal" '
            f'autocomplete="off" id="cell-{pk}-{key}" value="{value}" '
            f'data-version="{gc.version}" aria-labelledby="name-{pk} period-{key}"{readonly}>'
            f'<a class="cell-more no-print" id="more-{pk}-{key}" href="{url}" '
            f'title="{texts["note"]}">📎<span class="n">{gc.evidence_count}</span></a></div>'
            f'<span class="cell-state {state}" id="state-{pk}-{key}"{reason_title}>'
            f"{_escape(gc.state_label)}{sample}</span>",
            (
                f'<span class="return-reason" id="reason-{pk}-{key}" title="{reason}"><span '
                f'class="label">{texts["reason_label"]}</span> {reason}</span>'
                if reason
                else ""
            ),
            (
                _review(gc, pk, key, texts, page)
                if gc.submit_button or gc.review_buttons or gc.reopen_button
                else ""
            ),
            "</td>",  # the cell's message box (.cell-msg) is added by grid.js when needed
        )
    )


def _page(context):
    page = context.render_context.get(PAGE)
    if page is None:
        token = context.get("csrf_token")
        page = context.render_context[PAGE] = {
            "review_url": _escape(reverse("tracking:review_cells")),
            "csrf": (
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{_escape(token)}">'
                if token and token != "NOTPROVIDED"
                else ""
            ),
            # a row re-rendered after an in-place review step names the grid's own address
            "next": _escape(context.get("grid_next") or context["request"].get_full_path()),
            "cell_url": _cell_url(),
            "indicator_url": _indicator_url(),
            "texts": _texts(),
            "locks": {},
        }
    return page


@register.simple_tag(takes_context=True)
def grid_cells(context, line):
    """The period cells of one grid row (an indicators.views.grid.GridRow)."""
    page = _page(context)
    indicator = line.row.indicator
    texts = page["texts"]
    return mark_safe("".join(_cell(gc, indicator.pk, texts, page) for gc in line.cells))


@register.simple_tag(takes_context=True)
def grid_line(context, line):
    """One indicator's row of the grid (an indicators.views.grid.GridRow): its name, unit and
    target, its period cells, and its year-to-date figures as row_summary() gives them."""
    page = _page(context)
    texts = page["texts"]
    row = line.row
    indicator = row.indicator
    summary = line.summary
    pk = indicator.pk
    name = _escape(indicator.name)
    direction = DIRECTION_MARKS.get(indicator.direction)
    mark = f'<span class="direction-mark">{texts[direction]}</span>' if direction else ""
    sample = f'<span class="sample-badge">{texts["sample"]}</span>' if line.is_sample else ""
    cells = "".join(_cell(gc, pk, texts, page) for gc in line.cells)
    sample_class = ' class="is-sample"' if line.is_sample else ""
    return mark_safe(
        f'<tr id="row-{pk}" data-row data-indicator="{pk}" data-status="{_escape(row.status)}" '
        f'data-department="{row.department.department_id}"'
        f"{sample_class}>"
        f'<th scope="row" class="ind-name">'
        f'<a href="{page["indicator_url"] % pk}" class="indicator-link" id="name-{pk}">{name}</a>'
        f"{sample}{mark}"
        f'<span class="context">{_escape(row.strategic_goal.name)} › '
        f"{_escape(row.policy_goal.name)}</span></th>"
        f"<td>{_escape(indicator.unit)}</td>"
        f'<td class="num">{_escape(summary["annual_target"])}</td>'
        f"{cells}"
        f'<td class="num" data-field="ytd_actual">{_escape(summary["ytd_actual"])}</td>'
        f'<td class="num" data-field="ytd_target">{_escape(summary["ytd_target"])}</td>'
        f'<td class="num" data-field="rate">{_escape(summary["rate"])}</td>'
        f'<td data-field="status"><span class="status-badge status-{_escape(row.status)}">'
        f"{_escape(summary['status_label'])}</span></td>"
        f'<td data-field="last_update">{_escape(summary["last_update"])}</td>'
        f'<td data-field="sparkline" class="no-print">{summary["sparkline"]}</td>'
        f"</tr>\n"
    )


@register.simple_tag(takes_context=True)
def grid_lock_reasons(context):
    """Each reason a cell is read-only, once (the cells' aria-describedby points here)."""
    page = _page(context)
    items = "".join(
        f'<li id="{lock_id}">{_escape(reason)}</li>' for reason, lock_id in page["locks"].items()
    )
    return mark_safe(f'<ul class="grid-lock-reasons" id="grid-lock-reasons" hidden>{items}</ul>')


DIRECTION_MARKS = {"lower": "lower", "range": "range"}


def _indicator_url():
    """The indicator page's address as a %d pattern (one reverse() for every link)."""
    head, _sep, tail = reverse("tracking:indicator", args=[0]).rpartition("/0/")
    return head.replace("%", "%%") + "/%d/" + tail.replace("%", "%%")


def _cell_url():
    """reverse("tracking:cell", args=[pk, key]) for every cell: one reverse() a page when
    the address ends in /<pk>/<key>/ as urls.py has it, else one a cell."""
    sample = reverse("tracking:cell", args=[1, "M01"])
    if sample.endswith("/1/M01/"):
        prefix = sample[: -len("1/M01/")]
        return lambda pk, key: f"{prefix}{pk}/{key}/"
    return lambda pk, key: reverse("tracking:cell", args=[pk, key])
