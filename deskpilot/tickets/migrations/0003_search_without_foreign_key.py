"""The search table no longer references the tickets table (see core.search.create_schema)."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from deskpilot.core import search


def drop_foreign_key(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    backend = search.backend()
    for statement in getattr(backend, "drop_ticket_foreign_key", list)():
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_search_index")]
    operations = [migrations.RunPython(drop_foreign_key, migrations.RunPython.noop)]
