"""Department moves from goals into perfplan's core without moving a row (issue 11, break 3).

The core's foreign keys pointed up to goals.Department. The model now lives in perfplan and
keeps its table, goals_department: every operation here is on Django's state only, except the
content type, which is renamed in place (goals/department -> perfplan/department). Keeping
its id keeps the change log's hashes (they cover content_type_id) and the permissions (they
follow their content type, and with them the role groups' grants).
goals 0003 removes goals.Department from the state once every key points here.
"""

import django.db.models.deletion
from django.db import migrations, models

OLD = ("goals", "department")
NEW = ("perfplan", "department")


def _rename_content_type(apps, schema_editor, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    types = ContentType.objects.db_manager(db)
    moving = types.filter(app_label=source[0], model=source[1]).first()
    if moving is None:
        return  # a fresh database: post_migrate creates the type under its new label
    # A row under the target label can only be one post_migrate made while the state stood
    # between this migration and goals 0003; nothing is logged under it, so it goes.
    types.filter(app_label=target[0], model=target[1]).delete()
    moving.app_label, moving.model = target
    moving.save(update_fields=["app_label", "model"])
    types.clear_cache()


def forwards(apps, schema_editor):
    _rename_content_type(apps, schema_editor, OLD, NEW)


def backwards(apps, schema_editor):
    _rename_content_type(apps, schema_editor, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("goals", "0002_versions_and_original_budget"),
        ("perfplan", "0009_change_log_sealer"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Department",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("code", models.CharField(blank=True, max_length=30, null=True, unique=True, verbose_name="code")),
                        ("name", models.CharField(db_index=True, max_length=100, verbose_name="name")),
                    ],
                    options={
                        "verbose_name": "department",
                        "verbose_name_plural": "departments",
                        "db_table": "goals_department",
                        "ordering": ["name"],
                    },
                ),
                migrations.AlterField(
                    model_name="departmentassignment",
                    name="department",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="assignments", to="perfplan.department", verbose_name="department"),
                ),
                migrations.AlterField(
                    model_name="changelogentry",
                    name="department",
                    field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="perfplan.department", verbose_name="department"),
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]  # fmt: skip
