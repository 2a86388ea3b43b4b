"""Chain the committed change-log entries that are not sealed yet (run every minute by cron).

Writers append entries without hashes so that they never wait on each other; this command
(also run after each commit that wrote entries, and after each import) gives them their
chain position and hashes in short transactions. When another sealer is at work it returns
at once: that one seals the entries.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from perfplan.changelog import SEAL_BATCH, seal


class Command(BaseCommand):
    help = "Seal (hash-chain) the committed change-log entries not sealed yet."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=SEAL_BATCH,
            help="Entries sealed per transaction.",
        )

    def handle(self, *args, batch_size, **options):
        report = seal(batch_size=batch_size)
        if report.busy and not report.sealed:
            self.stdout.write(_("Another sealer is at work: nothing to do here."))
            return
        self.stdout.write(
            _("Sealed %(count)s entries; the chain ends at position #%(position)s.")
            % {"count": report.sealed, "position": report.position}
        )
