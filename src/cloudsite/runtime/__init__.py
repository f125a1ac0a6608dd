"""The runtime layer: everything that runs in AWS and is not the user's code.

It travels with the source zip as `.cloudsite/runtime/` (a file the project ejected with
`cloudsite init --eject` takes the built-in one's place) and the image build copies its Python
half to /opt/cloudsite/cloudsite/runtime, on the image's PYTHONPATH:

    build.py            THE build script: CodeBuild (buildspec.yml) and `cloudsite build` run it
    Dockerfile          the image: Debian's Python, the project's locked dependencies, this layer
    deps.py             (build stage) installs the project's dependencies and what the layer needs
    prepare.py          (build stage) loads the settings, collectstatic, check --deploy, a first
                        GET /, the seed database; each failure is one `error:` line
    settings.py         DJANGO_SETTINGS_MODULE in the image: the project's settings, then
                        production.py's layer (secret key, DEBUG off, hosts, TLS, database, ...)
    wsgi.py  asgi.py    the application gunicorn serves: /healthz and /readyz before Django's
                        host check, security headers, one JSON log line per request (front.py)
    gunicorn_conf.py    the server, and the graceful reload that hands it new secrets
    secretpipe.py       secrets arrive through a pipe, never in `docker inspect`
    deployments/        a Django app: `manage.py migrate_once` (migrations once per deployment)
    bin/start           the container's entry point;  bin/healthcheck  its HEALTHCHECK
    buildspec.yml  appspec.yml  hooks/   CodeBuild's and CodeDeploy's instructions

Only the standard library, Django, gunicorn, whitenoise and dj-database-url are imported here,
and only inside the image or a test: the CLI never imports this package's Django modules.
"""
