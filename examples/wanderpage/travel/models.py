"""The site's content: destinations, edited in the admin."""

from django.db import models
from django.urls import reverse


class Destination(models.Model):
    class Region(models.TextChoices):
        AFRICA = "africa", "Africa"
        AMERICAS = "americas", "Americas"
        ASIA = "asia", "Asia"
        EUROPE = "europe", "Europe"
        OCEANIA = "oceania", "Oceania"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    country = models.CharField(max_length=100)
    region = models.CharField(max_length=20, choices=Region.choices)
    summary = models.CharField(max_length=200, help_text="One line for the list page.")
    description = models.TextField()
    best_season = models.CharField(max_length=100, blank=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=5)
    longitude = models.DecimalField(max_digits=8, decimal_places=5)
    published = models.BooleanField(default=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name}, {self.country}"

    def get_absolute_url(self) -> str:
        return reverse("travel:destination", kwargs={"slug": self.slug})
