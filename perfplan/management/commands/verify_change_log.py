"""Recompute the change log's hash chain in one snapshot and report the first broken link.

Exit status 0 when the chain is whole, 1 when an entry was altered, removed or reordered, or
when the log no longer holds an anchored checkpoint (--anchors FILE, the lines printed by
`change_log_anchor`) (CommandError), so that a scheduler (cron, a systemd timer, CI) can
alert on it. Entries not sealed yet are reported, not counted as a break; older than
--max-unsealed-age seconds they are a warning (is the sealer's cron job running?).
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from perfplan.changelog import (
    SEAL_DELAY_BOUND,
    AnchorKeyMissing,
    anchor_key,
    read_anchors,
    verify_chain,
)


class Command(BaseCommand):
    help = "Verify the change log's hash chain; exit non-zero at the first broken link."

    def add_arguments(self, parser):
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=5000,
            help="Entries read from the database at a time.",
        )
        parser.add_argument(
            "--anchors",
            metavar="FILE",
            help="A file of checkpoints printed by change_log_anchor, one a line: each must "
            "carry a valid signature (PERFPLAN_ANCHOR_KEY) and still be in the log.",
        )
        parser.add_argument(
            "--max-unsealed-age",
            type=int,
            default=SEAL_DELAY_BOUND,
            help="Warn when an entry has waited longer than this many seconds to be sealed.",
        )

    def handle(self, *args, chunk_size, anchors, max_unsealed_age, **options):
        anchor_list, problems = self._anchors(anchors) if anchors else ([], [])
        report = verify_chain(chunk_size=chunk_size, anchors=anchor_list)
        problems += report.anchor_problems
        if report.unsealed:
            age = report.unsealed_age()
            message = _(
                "Not sealed yet: %(count)s entries, the oldest written %(age)s seconds ago."
            ) % {"count": report.unsealed, "age": int(age)}
            if age > max_unsealed_age:
                self.stderr.write(
                    self.style.WARNING(
                        message
                        + " "
                        + _(
                            "That is longer than %(bound)s seconds: is seal_change_log "
                            "running from cron?"
                        )
                        % {"bound": max_unsealed_age}
                    )
                )
            else:
                self.stdout.write(message)
        if not report.ok:
            lines = []
            if report.broken_at is not None:
                lines.append(
                    _(
                        "The change log is broken at chain position #%(position)s: %(problem)s "
                        "(%(checked)s entries before it are intact)."
                    )
                    % {
                        "position": report.broken_at,
                        "problem": report.problem,
                        "checked": report.checked,
                    }
                )
            if problems:
                lines.append(_("The change log does not match its anchors:"))
                lines.extend(f"  {problem}" for problem in problems)
            raise CommandError("\n".join(lines), returncode=1)
        if problems:
            raise CommandError(
                "\n".join(
                    [_("The change log does not match its anchors:")]
                    + [f"  {problem}" for problem in problems]
                ),
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("The change log is intact: %(checked)s entries verified.")
                % {"checked": report.checked}
            )
        )
        if anchors:
            self.stdout.write(
                _("Every anchor (%(count)s) is in the log.") % {"count": report.anchors_checked}
            )

    def _anchors(self, path):
        try:
            key = anchor_key()
        except AnchorKeyMissing as error:
            raise CommandError(str(error), returncode=2) from error
        try:
            with open(path, encoding="utf-8") as lines:
                return read_anchors(lines, key)
        except OSError as error:
            raise CommandError(
                _("The anchor file %(path)s cannot be read: %(error)s")
                % {"path": path, "error": error.strerror or error},
                returncode=2,
            ) from error
