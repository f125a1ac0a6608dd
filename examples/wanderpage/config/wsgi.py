"""The WSGI application: Django behind the front page cache."""

import os

from django.core.wsgi import get_wsgi_application

from config.pagecache import FrontPageCache

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# get_wsgi_application() sets Django up before the cache reads its settings.
application = FrontPageCache(get_wsgi_application())
