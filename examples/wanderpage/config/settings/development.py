"""Local development: DEBUG on, a fixed throwaway key, plain HTTP."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A development-only key: production refuses to start without its own DJANGO_SECRET_KEY.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="development-only-not-secret")
