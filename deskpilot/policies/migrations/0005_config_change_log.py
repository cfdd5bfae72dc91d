"""The SLA configuration's change log (``ConfigChange``) and the triggers that write it, in place
of the counter of 0004 (a counter row can be rolled back to a value used again, and is a lock
every configuration change waits on). See ``policies.config_version``."""

from typing import Any

from django.db import migrations, models

# The configuration's tables (policies.config_version.WATCHED), as they are named in the database.
TABLES = (
    "policies_slapolicy",
    "policies_slatarget",
    "policies_businesscalendar",
    "policies_businessinterval",
    "policies_customholiday",
    "policies_defaultcalendar",
    "policies_teamcalendar",
    "policies_organizationcalendar",
)
LOG = "policies_configchange"
FUNCTION = "policies_record_config_change"
# Tokens below 2**40: sums of many stay far inside a 64-bit integer.
SPAN = 1 << 40


def _statements(vendor: str) -> tuple[list[str], list[str]]:
    """(create, drop) statements for this database."""
    if vendor == "postgresql":
        create = [
            f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {LOG} (token) VALUES (floor(random() * {SPAN})::bigint); RETURN NULL; END $$"
        ]
        drop = []
        for table in TABLES:
            create.append(
                f"CREATE TRIGGER {table}_config_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
            drop.append(f"DROP TRIGGER IF EXISTS {table}_config_change ON {table}")
        drop.append(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
        return create, drop
    if vendor == "sqlite":
        create, drop = [], []
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                name = f"{table}_config_{event.lower()}"
                create.append(
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN "
                    f"INSERT INTO {LOG} (token) VALUES (abs(random() % {SPAN})); END"
                )
                drop.append(f"DROP TRIGGER IF EXISTS {name}")
        return create, drop
    raise NotImplementedError(f"no configuration triggers for {vendor}")


def create_triggers(apps: Any, schema_editor: Any) -> None:
    for sql in _statements(schema_editor.connection.vendor)[0]:
        schema_editor.execute(sql)


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    for sql in _statements(schema_editor.connection.vendor)[1]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0004_config_version"),
    ]

    operations = [
        migrations.DeleteModel(name="ConfigVersion"),
        migrations.CreateModel(
            name="ConfigChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
