"""DJANGO_SETTINGS_MODULE in the image: the project's own settings module (project.json's
"settings"), with the production layer on top (cloudsite.runtime.production)."""

from django.core.exceptions import ImproperlyConfigured

from cloudsite.runtime.production import LayerError
from cloudsite.runtime.production import settings as _settings

try:
    globals().update(_settings())
except LayerError as error:
    raise ImproperlyConfigured(str(error)) from None
