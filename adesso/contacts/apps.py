from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "adesso.contacts"
    label = "contacts"
    verbose_name = "Contacts"
