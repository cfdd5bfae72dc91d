"""Room on each PostgreSQL page for updated rows (fillfactor), so the live path's updates of a
metrics record and of the daily rollup rows are HOT updates (heap-only: the new row version goes
on the same page and no index is touched) instead of writing 17 and 3 index entries each.

Measured on the 1,000,000-ticket benchmark database: 15 of 634 record updates and none of 4,105
rollup updates were HOT with the default fillfactor of 100 (bulk-loaded pages are full). Existing
pages keep no room until rewritten: ``VACUUM FULL analytics_ticketmetrics, analytics_dailyrollup``
(or pg_repack) at a quiet time gives it to them (docs/performance.md). SQLite has no equivalent
and needs none (its B-tree rows are rewritten in place).
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# Rollup rows are wide (about 1.3 kB: six fit on a page) and today's rows change with every
# ticket event, so they get the most room; a metrics record changes a few times in its life.
FILLFACTOR = {"analytics_ticketmetrics": 85, "analytics_dailyrollup": 60}


def set_fillfactor(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, percent in FILLFACTOR.items():
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {int(percent)})")


def reset_fillfactor(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in FILLFACTOR:
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0006_metrics_indexes_type_org_solve_day")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False)]
