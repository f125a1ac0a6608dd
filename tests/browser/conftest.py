# The static files collected with the production profile, shared with the site's suites.
from tests.site.conftest import production_static  # noqa: F401
