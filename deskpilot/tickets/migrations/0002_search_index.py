"""The full-text search table, created by the engine-specific backend in core.search."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from deskpilot.core import search


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in search.backend().create_schema():
        schema_editor.execute(statement)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in search.backend().drop_schema():
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
