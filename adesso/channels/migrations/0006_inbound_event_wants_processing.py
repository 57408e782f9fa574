"""On SQLite, storing an accepted event also writes the wish for processing
(`ProcessingWanted`) in the same statement: a trigger. The webhook's request is then
one INSERT in autocommit, one commit (adesso/channels/pipeline.py, `_insert`).
PostgreSQL needs no trigger: its statement writes both rows itself (WITH ... INSERT).
"""

from django.db import migrations

TRIGGER = "channels_inboundevent_wants_processing"

CREATE = f"""
CREATE TRIGGER IF NOT EXISTS {TRIGGER}
AFTER INSERT ON channels_inboundevent
WHEN NEW.state = 'accepted'
BEGIN
    INSERT INTO channels_processingwanted (id)
    SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM channels_processingwanted WHERE id = 1);
END
"""


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0005_inbound_body_stored_uncompressed"),
    ]

    operations = [migrations.RunPython(create, drop)]
