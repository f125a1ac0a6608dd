"""Chooses the settings profile from one variable, DJANGO_ENV.

    development (default)  DEBUG on, embedded SQLite, no HTTPS requirements
    production             DEBUG off, secrets required, every security header on
    test                   fast hashing, in-memory caches, used by pytest

Each profile is a module beside this one; they all start from base.py.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_profile = os.environ.get("DJANGO_ENV", "development")

if _profile == "production":
    from .production import *  # noqa: F403
elif _profile == "development":
    from .development import *  # noqa: F403
elif _profile == "test":
    from .test import *  # noqa: F403
else:
    raise ImproperlyConfigured(
        f"DJANGO_ENV: {_profile!r} is not a profile; use development, production or test"
    )
