"""GIN indexes for stemmed full-text search on PostgreSQL (nothing on SQLite)."""

from django.db import migrations

CONFIGS = ("italian", "english")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for config in CONFIGS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS message_text_{config}_fts ON conversations_message "
            f"USING gin (to_tsvector('{config}'::regconfig, COALESCE(text, '')))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for config in CONFIGS:
        schema_editor.execute(f"DROP INDEX IF EXISTS message_text_{config}_fts")


class Migration(migrations.Migration):
    dependencies = [("conversations", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
