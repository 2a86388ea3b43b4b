"""Standings are outdated by appended changes (StandingInputChange) instead of a version
raised on the standing's row: a writer then locks no standing (indicators.standing)."""

import django.db.models.deletion
from django.db import migrations, models


def changes_for_outdated_versions(apps, schema_editor):
    """A standing whose computed version lags its inputs gets one change: still outdated."""
    IndicatorStanding = apps.get_model("indicators", "IndicatorStanding")
    StandingInputChange = apps.get_model("indicators", "StandingInputChange")
    lagging = (
        IndicatorStanding.objects.exclude(computed_version=models.F("inputs_version"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    StandingInputChange.objects.bulk_create(
        (StandingInputChange(indicator_id=pk) for pk in lagging.iterator()), batch_size=2000
    )


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0009_result_submitted_by_save_receipts"),
    ]

    operations = [
        migrations.CreateModel(
            name="StandingInputChange",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "indicator",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="indicators.indicator",
                    ),
                ),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.RunPython(changes_for_outdated_versions, migrations.RunPython.noop),
        migrations.RemoveField(model_name="indicatorstanding", name="inputs_version"),
        migrations.RemoveField(model_name="indicatorstanding", name="computed_version"),
    ]
