"""Pure helpers with no Django models: each has its own tests."""
