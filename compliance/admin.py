from django.contrib import admin

from .models import Requirement


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):
    list_display = ("title", "country", "number_type", "version", "active")
    list_filter = ("country", "number_type", "active")
    search_fields = ("title", "text")
