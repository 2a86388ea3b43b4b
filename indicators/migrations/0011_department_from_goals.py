"""EntryException.department points to perfplan.Department (state only; see perfplan 0010)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0010_standing_input_changes"),
        ("perfplan", "0010_department_from_goals"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="entryexception",
                    name="department",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="entry_exceptions", to="perfplan.department", verbose_name="department"),
                ),
            ],
        ),
    ]  # fmt: skip
