"""What a project keeps, read from its tree (nothing of it runs): whether its installed apps
write at run time (then a database server must keep what they write), whether it stores
files (then an S3 bucket keeps them), which storage it chose itself, and what its sessions
and its cache are. docs/data.md says what cloudsite does with each fact.

    data_facts(app_dir, facts, uses) -> Data
    media_choice(data, configured) -> (choice, why)   choice: s3 | none | project
"""

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cloudsite.project.pysource import SettingsFacts, parse

# Django's and well-known apps whose models people change while the site runs (the admin's
# log, users, sessions, pages). Apps that only read (staticfiles, humanize, messages) are not
# here; an app of the project's own counts when it defines a model.
WRITERS: Final = (
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.flatpages",
    "django.contrib.redirects",
    "django.contrib.comments",
    "wagtail",
    "allauth",
    "django_comments",
    "taggit",
)
# Installed apps that keep uploaded files (their models have file or image fields).
FILE_APPS: Final = (
    "wagtail.images",
    "wagtail.documents",
    "filer",
    "easy_thumbnails",
    "sorl.thumbnail",
    "photologue",
    "imagekit",
    "ckeditor_uploader",
    "django_ckeditor_5",
    "django_summernote",
)
FILE_FIELDS: Final = frozenset({"FileField", "ImageField", "FilePathField"})
FILESYSTEM: Final = (
    "django.core.files.storage.FileSystemStorage",
    "django.core.files.storage.filesystem.FileSystemStorage",
)
S3_BACKENDS: Final = ("storages.backends.s3", "storages.backends.s3boto3")
# Other storages a project may choose for its files (not S3: cloudsite adds no bucket).
OTHER_BACKENDS: Final = (
    "storages.backends.gcloud",
    "storages.backends.azure_storage",
    "storages.backends.dropbox",
    "storages.backends.ftp",
    "storages.backends.sftpstorage",
    "cloudinary_storage",
)
# Caches whose entries live in one process or one container: not shared between instances.
PER_PROCESS_CACHES: Final = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.dummy.DummyCache",
)
LOCMEM: Final = PER_PROCESS_CACHES[0]
DOTTED: Final = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


@dataclass(frozen=True)
class Data:
    apps: tuple[str, ...]  # INSTALLED_APPS, as the settings list them
    writers: tuple[str, ...]  # the apps among them that write at run time
    files: str  # why the project stores files ('' when it does not)
    storage: str  # the default storage backend the settings name ('' = Django's own)
    sessions: str  # SESSION_ENGINE ('' = Django's default, the database)
    cache: str  # the default cache's backend ('' = Django's default, LocMemCache)

    @property
    def writes(self) -> bool:
        return bool(self.writers)

    @property
    def storage_kind(self) -> str:
        """s3 (the project uses django-storages' S3 itself), other (a storage of its own that
        is not S3) or filesystem (Django's default, which a read-only container cannot keep)."""
        if any(self.storage.startswith(b) for b in S3_BACKENDS):
            return "s3"
        if self.storage and self.storage not in FILESYSTEM:
            return "other"
        return "filesystem"

    def cache_note(self) -> str:
        """One line on what the cache is and what it means across instances."""
        backend = self.cache or LOCMEM
        short = backend.rsplit(".", 1)[-1]
        if backend in PER_PROCESS_CACHES:
            default = "" if self.cache else ", Django's default"
            return (
                f"{short}{default}: each worker of each instance has its own, not shared; "
                "fine for a cache, wrong for anything every instance must see"
            )
        return f"{short}: a cache server the project names (cloudsite does not run one yet)"


def data_facts(app_dir: Path, facts: SettingsFacts, *, uses: tuple[str, ...]) -> Data:
    """The facts of the module docstring, from the settings and the project's own apps."""
    apps = tuple(s for s in facts.strings_resolved("INSTALLED_APPS") if DOTTED.fullmatch(s))
    own = {app: _models_files(app_dir, app) for app in apps}
    writers = [a for a in apps if a.startswith(WRITERS)]
    writers += [a for a, files in own.items() if files and _defines_models(files)]
    return Data(
        apps=apps,
        writers=_one_per_package(writers),
        files=_stores_files(facts, apps, own, uses=uses),
        storage=_default_storage(facts),
        sessions=facts.string_of("SESSION_ENGINE"),
        cache=_cache_backend(facts),
    )


def _one_per_package(apps: list[str]) -> tuple[str, ...]:
    """allauth once for allauth, allauth.account, ...; each of Django's own apps by name."""
    kept: dict[str, str] = {}
    for app in apps:
        kept.setdefault(app if app.startswith("django.contrib.") else app.split(".")[0], app)
    return tuple(kept.values())


def _models_files(app_dir: Path, app: str) -> list[Path]:
    """The models module(s) of an app that is part of the project's tree; [] for an
    installed package. An AppConfig path (blog.apps.BlogConfig) names its package."""
    parts = app.split(".")
    if parts[-1][:1].isupper() and len(parts) > 2:
        parts = parts[:-2]
    package = app_dir.joinpath(*parts)
    if not (package / "__init__.py").is_file():
        return []
    single = package / "models.py"
    if single.is_file():
        return [single]
    return sorted((package / "models").glob("*.py")) if (package / "models").is_dir() else []


def _defines_models(files: list[Path]) -> bool:
    """A class with a base other than Meta's: a model, as far as the source tells."""
    for path in files:
        tree = parse(path)
        for node in ast.walk(tree) if tree else []:
            if isinstance(node, ast.ClassDef) and node.bases and node.name != "Meta":
                return True
    return False


def _file_field(files: list[Path]) -> str:
    """The first file of these that declares a FileField or an ImageField, by name."""
    for path in files:
        tree = parse(path)
        for node in ast.walk(tree) if tree else []:
            name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
            if name in FILE_FIELDS:
                article = "an" if name[0] in "AEIOU" else "a"
                return f"{path.parent.name}/{path.name} declares {article} {name}"
    return ""


def _stores_files(
    facts: SettingsFacts, apps: tuple[str, ...], own: dict[str, list[Path]], *, uses: tuple
) -> str:
    for files in own.values():
        if found := _file_field(files):
            return found
    for app in apps:
        if app.startswith(FILE_APPS):
            return f"{app} is installed (it keeps uploaded files)"
    if "MEDIA_ROOT" in facts.assigned:
        return "the settings set MEDIA_ROOT"
    if "django-storages" in uses:
        return "django-storages is a dependency"
    return ""


def _default_storage(facts: SettingsFacts) -> str:
    """The backend the project names for its files: STORAGES['default'], the older
    DEFAULT_FILE_STORAGE, or a storage backend named anywhere in the settings (a project
    that turns S3 on under a condition, as Wagtail's bakerydemo does)."""
    value = facts.assigned.get("STORAGES")
    if isinstance(value, ast.Dict):
        for key, item in zip(value.keys, value.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "default":
                named = [s for s in _strings(item) if "." in s and s[0].isalpha()]
                if named and named[0] not in FILESYSTEM:
                    return named[0]
    old = facts.string_of("DEFAULT_FILE_STORAGE")
    if old and old not in FILESYSTEM:
        return old
    for backend in (*S3_BACKENDS, *OTHER_BACKENDS):
        named = sorted(s for s in facts.strings if s.startswith(backend))
        if named:
            return named[0]
    return old or ""


def _cache_backend(facts: SettingsFacts) -> str:
    named = [s for s in facts.strings_in("CACHES") if "cache" in s.lower() and "." in s]
    return named[0] if named else ""


def _strings(node: ast.AST) -> list[str]:
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def media_choice(data: Data, configured: str) -> tuple[str, str]:
    """Where uploads go, and why: s3 (a bucket of the stack's; the runtime layer points the
    default storage at it unless the project already uses S3 itself), project (a storage of
    the project's own, not S3: cloudsite adds nothing) or none. `configured` is the `media`
    key: auto, s3 or none. The caller refuses s3 with a storage of the project's own."""
    if configured == "none":
        return "none", "media = none"
    if configured == "s3":
        return "s3", "media = s3"
    if not data.files:
        return "none", "the project stores no files"
    if data.storage_kind == "other":
        return "project", f"the project stores its files with {data.storage}"
    return "s3", data.files
