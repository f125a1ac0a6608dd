"""A Django app the layer adds to every project (INSTALLED_APPS): `manage.py migrate_once`,
and the one table that proves migrations ran once per deployment."""
