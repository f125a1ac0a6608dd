"""Keep pytest out of the corpus.

The folders here are vendored third-party Django projects: test *data*, read by
the tests, never collected as tests. Some ship their own conftest.py and a
`tests` package that would clash with this repository's, so nothing below this
folder is collected.
"""

collect_ignore_glob = ["*"]
