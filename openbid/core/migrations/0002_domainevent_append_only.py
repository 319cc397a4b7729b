"""Make the database itself refuse UPDATE on recorded events (append-only, E-Bidding art. 49)."""

from django.db import migrations

SQLITE = (
    [
        "CREATE TRIGGER core_domainevent_no_update BEFORE UPDATE ON core_domainevent "
        "BEGIN SELECT RAISE(ABORT, 'domain events are append-only'); END"
    ],
    ["DROP TRIGGER IF EXISTS core_domainevent_no_update"],
)
POSTGRES = (
    [
        "CREATE OR REPLACE FUNCTION core_domainevent_refuse_update() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'domain events are append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER core_domainevent_no_update BEFORE UPDATE ON core_domainevent "
        "FOR EACH ROW EXECUTE FUNCTION core_domainevent_refuse_update()",
    ],
    [
        "DROP TRIGGER IF EXISTS core_domainevent_no_update ON core_domainevent",
        "DROP FUNCTION IF EXISTS core_domainevent_refuse_update()",
    ],
)


def forwards(apps, schema_editor):
    sql = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor)
    for statement in sql[0] if sql else []:
        schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor):
    sql = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor)
    for statement in sql[1] if sql else []:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
