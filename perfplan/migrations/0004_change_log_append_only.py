from django.db import migrations

# On PostgreSQL the database itself refuses to alter or remove change-log entries, whatever
# the application does. (TRUNCATE, used only by test-database flushes, is not covered.)
CREATE = """
CREATE OR REPLACE FUNCTION perfplan_changelog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'perfplan_changelogentry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS perfplan_changelog_append_only ON perfplan_changelogentry;
CREATE TRIGGER perfplan_changelog_append_only
    BEFORE UPDATE OR DELETE ON perfplan_changelogentry
    FOR EACH ROW EXECUTE FUNCTION perfplan_changelog_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS perfplan_changelog_append_only ON perfplan_changelogentry;
DROP FUNCTION IF EXISTS perfplan_changelog_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("perfplan", "0003_change_log_assignments_plan_settings")]
    operations = [migrations.RunPython(forwards, backwards)]
