"""The change log without a chain lock for writers: sequence, then seal.

Writers append entries with a number from a database sequence and empty hashes; the sealer
(perfplan.changelog.seal) gives committed entries their chain position and hashes. Entries
chained before keep their hashes: their position is their sequence (1, 2, … without gaps).

On PostgreSQL the database refuses:
- UPDATE of an entry, except the sealer's one-time fill of position, prev_hash and hash
  (every other column unchanged);
- DELETE of an entry or of the head, a head moving backwards;
- TRUNCATE of either table (a statement trigger). A test database (created by the test
  runner, which empties tables with TRUNCATE between transactional tests) lets a superuser
  session through when `perfplan.allow_truncate` is on; this migration turns it on for the
  test database only.
"""

from django.db import migrations, models

ENTRIES = "perfplan_changelogentry"
HEAD = "perfplan_changeloghead"
SEQUENCE = "perfplan_changelogentry_sequence_seq"

# Every column of an entry but the seal's: the sealer may fill the seal once, and must leave
# these as they are. A column added to the log must be added here (a test checks it).
ENTRY_COLUMNS = (
    "sequence", "timestamp", "user_id", "username", "request_id", "ip_address", "action",
    "content_type_id", "object_id", "object_repr", "department_id", "fiscal_year", "changes",
    "reason", "batch_id",
)  # fmt: skip


def _row(alias):
    # json has no equality operator: its text is compared (the log keeps JSON as written).
    return ", ".join(
        f"{alias}.{column}::text" if column == "changes" else f"{alias}.{column}"
        for column in ENTRY_COLUMNS
    )


# The one-time fill, as a trigger condition (evaluated without calling PL/pgSQL: sealing a
# batch costs about half as much as with a PL/pgSQL check of each row).
SEAL_FILL = f"""
    OLD.position IS NULL AND OLD.prev_hash = '' AND OLD.hash = ''
    AND NEW.position IS NOT NULL AND NEW.prev_hash <> '' AND NEW.hash <> ''
    AND ({_row("NEW")}) IS NOT DISTINCT FROM ({_row("OLD")})
"""

CREATE = f"""
CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} AS bigint OWNED BY {ENTRIES}.sequence;
SELECT setval('{SEQUENCE}', COALESCE((SELECT MAX(sequence) FROM {ENTRIES}), 0) + 1, false);
ALTER TABLE {ENTRIES} ALTER COLUMN sequence SET DEFAULT nextval('{SEQUENCE}');

-- perfplan_changelog_append_only() (migration 0004) refuses whatever it is called for.
DROP TRIGGER IF EXISTS perfplan_changelog_append_only ON {ENTRIES};
CREATE TRIGGER perfplan_changelog_append_only
    BEFORE DELETE ON {ENTRIES}
    FOR EACH ROW EXECUTE FUNCTION perfplan_changelog_append_only();
DROP TRIGGER IF EXISTS perfplan_changelog_sealed_once ON {ENTRIES};
CREATE TRIGGER perfplan_changelog_sealed_once
    BEFORE UPDATE ON {ENTRIES}
    FOR EACH ROW WHEN (NOT ({SEAL_FILL}))
    EXECUTE FUNCTION perfplan_changelog_append_only();

CREATE OR REPLACE FUNCTION perfplan_changelog_head_forward() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.position >= OLD.position THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{HEAD} only moves forward: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS perfplan_changelog_head_forward ON {HEAD};
CREATE TRIGGER perfplan_changelog_head_forward
    BEFORE UPDATE OR DELETE ON {HEAD}
    FOR EACH ROW EXECUTE FUNCTION perfplan_changelog_head_forward();

CREATE OR REPLACE FUNCTION perfplan_changelog_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('perfplan.allow_truncate', true) = 'on'
        AND current_setting('is_superuser') = 'on'
    THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS perfplan_changelog_no_truncate ON {ENTRIES};
CREATE TRIGGER perfplan_changelog_no_truncate
    BEFORE TRUNCATE ON {ENTRIES}
    FOR EACH STATEMENT EXECUTE FUNCTION perfplan_changelog_no_truncate();
DROP TRIGGER IF EXISTS perfplan_changelog_no_truncate ON {HEAD};
CREATE TRIGGER perfplan_changelog_no_truncate
    BEFORE TRUNCATE ON {HEAD}
    FOR EACH STATEMENT EXECUTE FUNCTION perfplan_changelog_no_truncate();
"""

DROP = f"""
DROP TRIGGER IF EXISTS perfplan_changelog_no_truncate ON {ENTRIES};
DROP TRIGGER IF EXISTS perfplan_changelog_no_truncate ON {HEAD};
DROP FUNCTION IF EXISTS perfplan_changelog_no_truncate();
DROP TRIGGER IF EXISTS perfplan_changelog_head_forward ON {HEAD};
DROP FUNCTION IF EXISTS perfplan_changelog_head_forward();
ALTER TABLE {ENTRIES} ALTER COLUMN sequence DROP DEFAULT;
DROP SEQUENCE IF EXISTS {SEQUENCE};
DROP TRIGGER IF EXISTS perfplan_changelog_sealed_once ON {ENTRIES};
DROP TRIGGER IF EXISTS perfplan_changelog_append_only ON {ENTRIES};
CREATE TRIGGER perfplan_changelog_append_only
    BEFORE UPDATE OR DELETE ON {ENTRIES}
    FOR EACH ROW EXECUTE FUNCTION perfplan_changelog_append_only();
"""


def _is_test_database(connection):
    settings = connection.settings_dict
    return settings["NAME"] == (settings.get("TEST") or {}).get("NAME")


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(
            f"ALTER TABLE {ENTRIES} DISABLE TRIGGER perfplan_changelog_append_only", params=None
        )
    # Entries chained so far: their sequence was their place in the chain.
    schema_editor.execute(f"UPDATE {ENTRIES} SET position = sequence WHERE hash <> ''", params=None)
    if postgresql:
        schema_editor.execute(
            f"ALTER TABLE {ENTRIES} ENABLE TRIGGER perfplan_changelog_append_only", params=None
        )
        schema_editor.execute(CREATE, params=None)
        if _is_test_database(connection):
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            schema_editor.execute(
                f"ALTER DATABASE {name} SET perfplan.allow_truncate = 'on'", params=None
            )
            schema_editor.execute("SET perfplan.allow_truncate = 'on'", params=None)
    ChangeLogHead = apps.get_model("perfplan", "ChangeLogHead")
    ChangeLogHead.objects.get_or_create(pk=1)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("perfplan", "0008_plan_allow_self_review")]

    operations = [
        migrations.RenameField(
            model_name="changeloghead", old_name="sequence", new_name="position"
        ),
        migrations.AddField(
            model_name="changelogentry",
            name="position",
            field=models.BigIntegerField(
                blank=True, null=True, unique=True, verbose_name="chain position"
            ),
        ),
        migrations.AlterField(
            model_name="changelogentry",
            name="hash",
            field=models.CharField(blank=True, db_default="", max_length=64, verbose_name="hash"),
        ),
        migrations.AlterField(
            model_name="changelogentry",
            name="prev_hash",
            field=models.CharField(
                blank=True, db_default="", max_length=64, verbose_name="previous hash"
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddIndex(
            model_name="changelogentry",
            index=models.Index(
                condition=models.Q(("position__isnull", True)),
                fields=["sequence"],
                name="changelog_unsealed",
            ),
        ),
    ]
