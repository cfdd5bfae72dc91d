"""Every count of a rollup row defaults to 0 in the database, so the live path's upsert names
only the columns a change moves (analytics.rollups.add): a statement of a few dozen values instead
of some 1,500 literal zeros, which PostgreSQL's client-side binding composed and the server parsed
on every ticket change.

One ALTER TABLE on PostgreSQL; one table rebuild on SQLite (Django's per-field AlterField would
rebuild the table once per column, 107 times).
"""

from typing import Any

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

_SKIP = {"id", "day", "dimension", "key"}


def _counts(model: Any) -> list[Any]:
    return [f for f in model._meta.local_fields if f.name not in _SKIP]


def _with_default(field: Any, default: int | None) -> Any:
    name, _path, args, kwargs = field.deconstruct()
    kwargs.pop("db_default", None)
    if default is not None:
        kwargs["db_default"] = default
    new = type(field)(*args, **kwargs)
    new.set_attributes_from_name(name)
    new.model = field.model
    return new


def _set(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor, default: int | None) -> None:
    model = apps.get_model("analytics", "DailyRollup")
    fields = _counts(model)
    if schema_editor.connection.vendor == "postgresql":
        action = "SET DEFAULT 0" if default is not None else "DROP DEFAULT"
        clauses = ", ".join(f"ALTER COLUMN {schema_editor.quote_name(f.column)} {action}" for f in fields)
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(model._meta.db_table)} {clauses}")
    elif schema_editor.connection.vendor == "sqlite":
        # SQLite cannot change a column's default in place: the table is rebuilt, once for all.
        pairs = [(f, _with_default(f, default)) for f in fields]
        schema_editor._remake_table(model, alter_fields=pairs)  # type: ignore[attr-defined]
    else:
        for old, new in ((f, _with_default(f, default)) for f in fields):
            schema_editor.alter_field(model, old, new)


def add_defaults(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _set(apps, schema_editor, 0)


def drop_defaults(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _set(apps, schema_editor, None)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0007_fillfactor")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_defaults, drop_defaults, elidable=False)],
            state_operations=[
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="created",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="csat_bad",
                    field=models.IntegerField(db_default=0, default=0, help_text="tickets solved this day rated bad"),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="csat_good",
                    field=models.IntegerField(db_default=0, default=0, help_text="tickets solved this day rated good"),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="escalated",
                    field=models.IntegerField(
                        db_default=0, default=0, help_text="tickets created this day escalated at least once"
                    ),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="escalations",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="fcr",
                    field=models.IntegerField(
                        db_default=0, default=0, help_text="first-contact resolutions among the tickets solved"
                    ),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b00",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b01",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b02",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b03",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b04",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b05",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b06",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b07",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b08",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b09",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b10",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b11",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b12",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b13",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b14",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b15",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b16",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b17",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_b18",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frt_sum",
                    field=models.BigIntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b00",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b01",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b02",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b03",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b04",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b05",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b06",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b07",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b08",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b09",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b10",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b11",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b12",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b13",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b14",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b15",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b16",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b17",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_b18",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="frtb_sum",
                    field=models.BigIntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="one_touch",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="reopened",
                    field=models.IntegerField(
                        db_default=0, default=0, help_text="of those solved, tickets reopened at least once"
                    ),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="reopens",
                    field=models.IntegerField(db_default=0, default=0, help_text="reopens of the tickets solved"),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="replies",
                    field=models.IntegerField(
                        db_default=0, default=0, help_text="public agent replies of the tickets solved"
                    ),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b00",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b01",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b02",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b03",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b04",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b05",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b06",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b07",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b08",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b09",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b10",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b11",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b12",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b13",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b14",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b15",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b16",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b17",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_b18",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="res_sum",
                    field=models.BigIntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b00",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b01",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b02",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b03",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b04",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b05",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b06",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b07",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b08",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b09",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b10",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b11",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b12",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b13",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b14",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b15",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b16",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b17",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_b18",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="resb_sum",
                    field=models.BigIntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_agent_work_breached",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_agent_work_met",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_breached",
                    field=models.IntegerField(
                        db_default=0, default=0, help_text="SLA target instances breached, tickets created this day"
                    ),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_first_reply_breached",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_first_reply_met",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_met",
                    field=models.IntegerField(
                        db_default=0, default=0, help_text="SLA target instances met, tickets created this day"
                    ),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_next_reply_breached",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_next_reply_met",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_pausable_update_breached",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_pausable_update_met",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_periodic_update_breached",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_periodic_update_met",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_requester_wait_breached",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_requester_wait_met",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_total_resolution_breached",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="sla_total_resolution_met",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="dailyrollup",
                    name="solved",
                    field=models.IntegerField(
                        db_default=0, default=0, help_text="tickets whose latest solve is this day"
                    ),
                ),
            ],
        )
    ]
