"""What each verb does, in order, and what it prints, one module per group of verbs. cli.py
parses; the steps live in the service modules (infra, deploy, teardown, status, logs).

- stack: the infrastructure (up, deploy, down, plan, template)
- site: the Django project here (init, build), and the summaries plan shares
- operations: running a deployed site (status, logs)
- local: the rehearsal on this machine (local up, deploy, status, logs, down)
"""
