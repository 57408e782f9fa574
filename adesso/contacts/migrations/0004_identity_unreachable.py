"""A contact's address the channel can no longer deliver to (Telegram: the customer blocked
the bot): when and why, cleared when the customer writes again."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0003_contact_consent_erasure"),
    ]

    operations = [
        migrations.AddField(
            model_name="contactidentity",
            name="unreachable_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="contactidentity",
            name="unreachable_reason",
            field=models.CharField(blank=True, max_length=500),
        ),
    ]
