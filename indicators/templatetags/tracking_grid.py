"""The results grid's period cells, written in Python.

A department's grid has some 500 cells of a dozen fields each; through the template engine
they took most of the page's time (bench/tracking_views.py). `{% grid_cells line %}` writes
exactly what the template wrote for each cell of a GridRow (indicators.views.grid), escaped the
same way, with the page's CSRF token and address.
"""

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
            ("reason_for", _("Reason for return (the officer sees it)")),
            ("return_with", _("Return with this reason")),
            ("lower", "↓ " + _("lower is better")),
            ("range", "↔ " + _("target range")),
        )
    }


def _review(gc, pk, key, texts, page):
    parts = ['<div class="cell-review no-print">\n          ']
    if gc.submit_button:
        parts.append(
            f'<button type="submit" form="review-submit-form" name="cell" value="{pk}:{key}" '
            f'class="review-button submit" id="submit-{pk}-{key}"'
            f"{' hidden' if gc.submit_button == 'hidden' else ''}>{texts['submit']}</button>"
        )
    parts.append("\n          ")
    if gc.review_buttons:
        parts.append(
            f'<button type="submit" form="review-approve-form" name="cell" value="{pk}:{key}" '
            f'class="review-button approve" id="approve-{pk}-{key}">{texts["approve"]}</button>\n'
            f'          <details class="return-box" id="return-{pk}-{key}"><summary '
            f'class="review-button return">{texts["return"]}</summary>\n'
            f'            <form method="post" action="{page["review_url"]}" '
            f'class="review-form return-form" id="return-form-{pk}-{key}">{page["csrf"]}\n'
            f'              <input type="hidden" name="step" value="return"><input type="hidden" '
            f'name="cell" value="{pk}:{key}"><input type="hidden" name="next" '
            f'value="{page["next"]}">\n'
            f'              <label for="return-reason-{pk}-{key}">{texts["reason_for"]}</label>\n'
            f'              <textarea name="reason" id="return-reason-{pk}-{key}" rows="3" '
            f"required></textarea>\n"
            f'              <button type="submit" class="review-button return" '
            f'id="return-submit-{pk}-{key}">{texts["return_with"]}</button>\n'
            f"            </form>\n"
            f"          </details>"
        )
    parts.append("\n        </div>")
    return "".join(parts)


def _cell(gc, pk, name, texts, page):
    cell = gc.cell
    key = _escape(cell.period.key)
    state = _escape(gc.state)
    value = _escape(gc.input_value)
    classes = ("" if cell.is_due else " not-due") + (" missing" if cell.is_missing else "")
    readonly = "" if gc.editable else f' readonly title="{_escape(gc.lock_reason)}"'
    url = _escape(page["cell_url"](pk, cell.period.key))
    reason = _escape(gc.return_reason) if gc.return_reason else ""
    reason_title = f' title="{reason}"' if reason else ""
    sample = ""
    if gc.is_sample:
        sample = (" · " if gc.state else "") + f'<span class="sample-mark">{texts["sample"]}</span>'
    return "".join(
        (
            f'\n      <td class="cell{classes}" data-period="{key}" data-state="{state}">\n'
            f'        <div class="cell-box">\n'
            f'          <input class="cell-input" type="text" inputmode="decimal" '
            f'autocomplete="off" spellcheck="false"\n'
            f'            id="cell-{pk}-{key}" value="{value}" data-saved="{value}"\n'
            f'            data-indicator="{pk}" data-period="{key}" data-version="{gc.version}"\n'
            f'            aria-label="{name} {_escape(cell.period.label)}"{readonly}>\n'
            f'          <a class="cell-more no-print" id="more-{pk}-{key}" href="{url}" '
            f'title="{texts["note"]}">📎<span class="n">{gc.evidence_count}</span></a>\n'
            f"        </div>\n"
            f'        <span class="cell-state {state}" id="state-{pk}-{key}"{reason_title}>'
            f"{_escape(gc.state_label)}{sample}</span>\n        ",
            (
                f'<span class="return-reason" id="reason-{pk}-{key}" title="{reason}"><span '
                f'class="label">{texts["reason_label"]}</span> {reason}</span>'
                if reason
                else ""
            ),
            "\n        ",
            _review(gc, pk, key, texts, page) if gc.submit_button or gc.review_buttons else "",
            '\n        <span class="cell-msg" role="status"></span>\n      </td>\n      ',
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
            "next": _escape(context["request"].get_full_path()),
            "cell_url": _cell_url(),
            "indicator_url": _indicator_url(),
            "texts": _texts(),
        }
    return page


@register.simple_tag(takes_context=True)
def grid_cells(context, line):
    """The period cells of one grid row (an indicators.views.grid.GridRow)."""
    page = _page(context)
    indicator = line.row.indicator
    texts = page["texts"]
    name = _escape(indicator.name)
    return mark_safe("".join(_cell(gc, indicator.pk, name, texts, page) for gc in line.cells))


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
    cells = "".join(_cell(gc, pk, name, texts, page) for gc in line.cells)
    sample_class = ' class="is-sample"' if line.is_sample else ""
    return mark_safe(
        f'<tr id="row-{pk}" data-row data-indicator="{pk}" data-status="{_escape(row.status)}" '
        f'data-department="{row.department.department_id}"'
        f"{sample_class}>\n"
        f'      <th scope="row" class="ind-name">\n'
        f'        <a href="{page["indicator_url"] % pk}" class="indicator-link">{name}</a>\n'
        f"        {sample}\n"
        f"        {mark}\n"
        f'        <span class="context">{_escape(row.strategic_goal.name)} › '
        f"{_escape(row.policy_goal.name)}</span>\n"
        f"      </th>\n"
        f"      <td>{_escape(indicator.unit)}</td>\n"
        f'      <td class="num">{_escape(summary["annual_target"])}</td>\n'
        f"      {cells}\n"
        f'      <td class="num" data-field="ytd_actual">{_escape(summary["ytd_actual"])}</td>\n'
        f'      <td class="num" data-field="ytd_target">{_escape(summary["ytd_target"])}</td>\n'
        f'      <td class="num" data-field="rate">{_escape(summary["rate"])}</td>\n'
        f'      <td data-field="status"><span class="status-badge status-{_escape(row.status)}">'
        f"{_escape(summary['status_label'])}</span></td>\n"
        f'      <td data-field="last_update">{_escape(summary["last_update"])}</td>\n'
        f'      <td data-field="sparkline" class="no-print">{summary["sparkline"]}</td>\n'
        f"    </tr>"
    )


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
