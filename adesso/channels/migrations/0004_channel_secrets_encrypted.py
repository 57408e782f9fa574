"""Channel secrets encrypted at rest: the config field seals them (adesso/channels/secrets.py);
this encrypts the ones already stored in clear (and decrypts them back when reversed)."""

from typing import Any

from django.db import migrations

import adesso.channels.secrets


def encrypt(apps: Any, schema_editor: Any) -> None:
    from adesso.channels.secrets import seal_config

    Channel = apps.get_model("channels", "Channel")
    for pk, kind, config in Channel.objects.values_list("pk", "kind", "config").iterator():
        sealed = seal_config(kind, config)
        if sealed != config:
            Channel.objects.filter(pk=pk).update(config=sealed)


def decrypt(apps: Any, schema_editor: Any) -> None:
    # Reading opens every sealed value; writing back with update() stores them as read.
    Channel = apps.get_model("channels", "Channel")
    for pk, config in Channel.objects.values_list("pk", "config").iterator():
        Channel.objects.filter(pk=pk).update(config=config)


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0003_processing_wanted"),
    ]

    operations = [
        migrations.AlterField(
            model_name="channel",
            name="config",
            field=adesso.channels.secrets.ChannelConfigField(blank=True, default=dict),
        ),
        migrations.RunPython(encrypt, decrypt),
    ]
