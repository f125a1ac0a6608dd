from django.contrib import admin
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Destination


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "region", "published", "updated")
    list_filter = ("region", "published")
    search_fields = ("name", "country", "summary")
    prepopulated_fields = {"slug": ("name",)}  # noqa: RUF012

    # The public pages are cached whole, in each worker process's memory. An edit shows at
    # once from the process that saved it; the other workers, and other instances, keep
    # their copy for at most DJANGO_PAGE_CACHE_SECONDS.
    def save_model(
        self, request: HttpRequest, obj: Destination, form: object, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        cache.clear()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Destination]) -> None:
        super().delete_queryset(request, queryset)
        cache.clear()
