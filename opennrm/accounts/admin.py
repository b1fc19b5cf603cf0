"""The administrator's pages: users, organisations and closure days. No case content is registered here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from opennrm.policy import Capability, has_capability
from opennrm.workdays.models import ClosureDay
from opennrm.workdays.services import closure_day_delete, closure_day_save

from .models import Organisation, Team, User
from .services import organisation_save, team_save, user_save


class AdminRoleOnly:
    """Only the administrator role manages accounts, whatever Django's own flags say."""

    def has_module_permission(self, request):
        return has_capability(request.user, Capability.MANAGE_ACCOUNTS)

    def has_view_permission(self, request, obj=None):
        return has_capability(request.user, Capability.MANAGE_ACCOUNTS)

    has_add_permission = has_module_permission
    has_change_permission = has_view_permission

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: records keep pointing at their author


@admin.register(Organisation)
class OrganisationAdmin(AdminRoleOnly, admin.ModelAdmin):
    list_display = ["name", "kind", "local_authority", "competent_authority", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        organisation_save(actor=request.user, organisation=obj, changed=list(form.changed_data))


@admin.register(User)
class UserAdmin(AdminRoleOnly, BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "organisation", "team", "is_active"]
    list_filter = ["role", "organisation", "is_active"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        ("Access", {"fields": ["organisation", "role", "team", "is_active"]}),
        ("History", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["username", "email", "organisation", "role", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]

    def save_model(self, request, obj, form, change):
        user_save(actor=request.user, user=obj, changed=list(form.changed_data))


@admin.register(Team)
class TeamAdmin(AdminRoleOnly, admin.ModelAdmin):
    list_display = ["name", "organisation", "manager", "email"]
    list_filter = ["organisation"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        team_save(actor=request.user, team=obj, changed=list(form.changed_data))


@admin.register(ClosureDay)
class ClosureDayAdmin(AdminRoleOnly, admin.ModelAdmin):
    list_display = ["date", "nation", "description"]
    list_filter = ["nation"]

    def has_delete_permission(self, request, obj=None):
        return has_capability(request.user, Capability.MANAGE_CALENDAR)

    def save_model(self, request, obj, form, change):
        closure_day_save(actor=request.user, closure=obj)

    def delete_model(self, request, obj):
        closure_day_delete(actor=request.user, closure=obj)

    def delete_queryset(self, request, queryset):
        for closure in queryset:
            closure_day_delete(actor=request.user, closure=closure)
