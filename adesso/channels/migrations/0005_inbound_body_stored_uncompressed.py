"""PostgreSQL: the raw body of an inbound event is stored out of line without
compression (STORAGE EXTERNAL). Mails and attachments are mostly compressed already
(base64 of images, PDFs): compressing them again cost 20-30 ms of a 1 MB mail's
accept, in the web request, for little room saved. SQLite has no such setting."""

from django.db import migrations


def uncompressed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE channels_inboundevent ALTER COLUMN body SET STORAGE EXTERNAL")


def compressed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE channels_inboundevent ALTER COLUMN body SET STORAGE EXTENDED")


class Migration(migrations.Migration):
    dependencies = [("channels", "0004_channel_secrets_encrypted")]

    operations = [migrations.RunPython(uncompressed, compressed)]
