"""PlanDepartment.department points to perfplan.Department, and goals.Department leaves the
state; its table, goals_department, stays where it is (perfplan 0010 moved the model)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("goals", "0002_versions_and_original_budget"),
        ("indicators", "0011_department_from_goals"),
        ("perfplan", "0010_department_from_goals"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="plandepartment",
                    name="department",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="plan_entries", to="perfplan.department", verbose_name="department"),
                ),
                migrations.DeleteModel(name="Department"),
            ],
        ),
    ]  # fmt: skip
