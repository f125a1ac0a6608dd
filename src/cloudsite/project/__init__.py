"""The user's Django project: what it is (detect), and the source zip that ships it (ship).

Nothing here runs the user's code or calls AWS: detection reads files, and Python files only
through `ast`.
"""
