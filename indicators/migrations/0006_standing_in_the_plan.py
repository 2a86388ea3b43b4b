"""Standings are filed under their plan and goals, and every indicator has one.

The standings kept so far are derived data: they are dropped and one (outdated) row is
made for every indicator, which the first overview of each plan computes.
"""

import django.db.models.deletion
from django.db import migrations, models

LINK_ALL = """
INSERT INTO indicators_indicatorstanding
    (indicator_id, plan_id, plan_department_id, strategic_goal_id, policy_goal_id)
SELECT i.id, pd.plan_id, pd.id, sg.id, pg.id
FROM indicators_indicator i
JOIN goals_policygoal pg ON pg.id = i.policy_goal_id
JOIN goals_strategicgoal sg ON sg.id = pg.strategic_goal_id
JOIN goals_plandepartment pd ON pd.id = sg.plan_department_id
"""


class Migration(migrations.Migration):
    # Not one transaction: PostgreSQL refuses to build an index on a table whose new foreign
    # key checks are pending in the same transaction ("pending trigger events").
    atomic = False

    dependencies = [
        ("goals", "0002_versions_and_original_budget"),
        ("indicators", "0005_indicator_standing"),
        ("perfplan", "0007_change_log_sequence_key_json_text"),
    ]

    operations = [
        migrations.RunSQL("DELETE FROM indicators_indicatorstanding", migrations.RunSQL.noop),
        migrations.AddField(
            model_name="indicatorstanding",
            name="plan",
            field=models.ForeignKey(
                default=0,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="perfplan.plan",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="indicatorstanding",
            name="plan_department",
            field=models.ForeignKey(
                default=0,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="goals.plandepartment",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="indicatorstanding",
            name="strategic_goal",
            field=models.ForeignKey(
                default=0,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="goals.strategicgoal",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="indicatorstanding",
            name="policy_goal",
            field=models.ForeignKey(
                default=0,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="goals.policygoal",
            ),
            preserve_default=False,
        ),
        migrations.RunSQL(LINK_ALL, "DELETE FROM indicators_indicatorstanding"),
    ]
