"""Staff views inside the admin shell, one module per job (indicators/urls.py points to them).

- screen: the plan and filters a page shows (build_screen), its rows' figures, shared helpers
- access: who may see and enter what (require_view, entry windows, review scope), lookups
- grid: my department's results grid; save: the grid's JSON save (all cells or none)
- review: submit, approve and return in the grid (cells, or a department's whole period)
- cell: one cell's note and evidence (증빙자료); indicator: an indicator's page
- overview: the plan overview; exports: the grid's and the overview's xlsx / csv
  (their tables are indicators.tables); home; results_import: the results import pages

Every queryset goes through perfplan.scoping.restrict (or get_or_deny): an id changed in a
URL never shows another department's data, it is a 404. Results are written only through
indicators.workflow.save_result, which enforces scoping, entry deadlines, review states and
optimistic locking; its refusals are shown where the value was typed. Review steps go
through indicators.workflow (submit, approve, return_results, bulk_approve), which decides and
refuses in Korean; the grid only shows the buttons a user's role, department and the loaded
results allow.
"""
