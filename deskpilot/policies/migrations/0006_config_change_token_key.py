"""The change log keyed by its random token instead of a sequence, and PostgreSQL's triggers no
longer fired by TRUNCATE. A flush (tests) truncates the log with the configuration, then resets
the sequences: rows the TRUNCATE triggers had just added collided with the next insert."""

from typing import Any

from django.db import migrations, models

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
# Tokens below 2**40: sums of many stay far inside a 64-bit integer (SQLite's SUM does not
# overflow into a wider type), and two rows at once share a token with odds of one in 2**40.
SPAN = 1 << 40


def _statements(vendor: str) -> tuple[list[str], list[str]]:
    """(create, drop) statements for this database."""
    if vendor == "postgresql":
        drop = [f"DROP TRIGGER IF EXISTS {table}_config_change ON {table}" for table in TABLES]
        drop.append(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
        create = [
            f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {LOG} (token) VALUES (floor(random() * {SPAN})::bigint); RETURN NULL; END $$"
        ]
        create += [
            f"CREATE TRIGGER {table}_config_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            for table in TABLES
        ]
        return create, drop
    if vendor == "sqlite":
        create, drop = [], []
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                name = f"{table}_config_{event.lower()}"
                drop.append(f"DROP TRIGGER IF EXISTS {name}")
                create.append(
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN "
                    f"INSERT INTO {LOG} (token) VALUES (abs(random() % {SPAN})); END"
                )
        return create, drop
    raise NotImplementedError(f"no configuration triggers for {vendor}")


def drop_triggers(apps: Any, schema_editor: Any) -> None:
    for sql in _statements(schema_editor.connection.vendor)[1]:
        schema_editor.execute(sql)


def create_triggers(apps: Any, schema_editor: Any) -> None:
    for sql in _statements(schema_editor.connection.vendor)[0]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0005_config_change_log"),
    ]

    operations = [
        migrations.RunPython(drop_triggers, create_triggers),
        migrations.DeleteModel(name="ConfigChange"),
        migrations.CreateModel(
            name="ConfigChange",
            fields=[("token", models.BigIntegerField(primary_key=True, serialize=False))],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
