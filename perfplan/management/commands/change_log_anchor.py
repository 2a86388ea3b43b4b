"""Print a signed checkpoint of the change log, to be appended to a file kept elsewhere.

    manage.py change_log_anchor >> /srv/anchors/perfplan-change-log.anchors

One line of JSON: the chain's last sealed position, its hash, the time, and an HMAC-SHA256
of them with the key in PERFPLAN_ANCHOR_KEY (from the environment, never the database).
`verify_change_log --anchors FILE` then proves the log still holds every checkpoint: a log
rewritten and rehashed by whoever owns the database no longer matches its anchors.
"""

from django.core.management.base import BaseCommand, CommandError

from perfplan.changelog import AnchorKeyMissing, anchor_key, make_anchor


class Command(BaseCommand):
    help = "Print a signed checkpoint (position, head hash, time, HMAC) of the change log."

    def handle(self, *args, **options):
        try:
            key = anchor_key()
        except AnchorKeyMissing as error:
            raise CommandError(str(error), returncode=2) from error
        self.stdout.write(make_anchor(key))
