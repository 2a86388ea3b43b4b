from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from reminders.services import send_reminders


class Command(BaseCommand):
    help = (
        "E-mail officers the results to enter or submit before a deadline, reviewers what "
        "waits for them, and officers their returned results; each reminder once (cron: daily)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", default="", help="as if today were this date (YYYY-MM-DD)")

    def handle(self, *args, date: str = "", **options):
        today = None
        if date:
            try:
                today = _parse_date(date)
            except ValueError as exc:
                raise CommandError(
                    _("not a date (YYYY-MM-DD): %(value)s") % {"value": date}
                ) from exc
        report = send_reminders(today)
        self.stdout.write(
            _("Reminders: %(sent)s messages with %(reminders)s reminders; %(already)s sent before.")
            % {"sent": report.sent, "reminders": report.reminders, "already": report.already}
        )
        if report.without_email:
            self.stdout.write(
                _("Without an e-mail address (nothing sent): %(users)s")
                % {"users": ", ".join(report.without_email)}
            )


def _parse_date(text):
    return date.fromisoformat(text)
