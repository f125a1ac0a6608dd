"""Template hygiene: no template syntax reaches a page (Django's {# #} comments end at the end
of their line, so a multi-line one is printed as text; a browser screenshot once showed it)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/", "/destinations/", "/destinations/kyoto/", "/about/", "/no/such/page/"]
)
def test_no_template_syntax_leaks_into_a_page(client: Client, path: str) -> None:
    html = client.get(path).content.decode()
    for syntax in ("{#", "#}", "{%", "%}", "{{", "}}"):
        assert syntax not in html
