"""The administrator's pages: users, organisations and closure days. No case content is registered here."""

from django.contrib import admin, messages
from django.contrib.auth import logout
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.policy import Capability, has_capability
from opennrm.workdays.models import ClosureDay
from opennrm.workdays.services import closure_day_delete, closure_day_save

from .models import Organisation, SignInLock, Team, User
from .services import organisation_save, second_factor_reset, sign_in_lock_lift, team_save, user_save, user_sign_in_unlock, user_signed_out


def sign_in_instead(request, extra_context=None):
    """The admin signs in through the service's own sign-in page, with its lock-out and second factor."""
    if request.user.is_authenticated:
        return redirect("web:home")
    return redirect(reverse("web:sign-in") + "?" + urlencode({"next": request.GET.get("next") or reverse("admin:index")}))


def sign_out_audited(request, extra_context=None):
    """The admin's "Log out" signs out as the service's own sign-out does: audited, then to the sign-in page."""
    if request.method != "POST":
        return redirect("admin:index")
    if request.user.is_authenticated:
        user_signed_out(user=request.user)
    logout(request)
    return redirect("web:sign-in")


admin.site.login = sign_in_instead
admin.site.logout = sign_out_audited
# django-otp registers its devices here; their secret keys are nobody's to read, administrators' included.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


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
    actions = ["reset_second_factor", "unlock_sign_in"]

    def save_model(self, request, obj, form, change):
        user_save(actor=request.user, user=obj, changed=list(form.changed_data))

    @admin.action(description="Reset the second factor of the selected users (they set up a new one at their next sign-in)")
    def reset_second_factor(self, request, queryset):
        removed = sum(1 for user in queryset if second_factor_reset(actor=request.user, user=user))
        self.message_user(request, f"Second factor reset for {removed} of {queryset.count()} selected users (the others had none).", messages.SUCCESS)

    @admin.action(description="Unlock signing in for the selected users")
    def unlock_sign_in(self, request, queryset):
        lifted = sum(user_sign_in_unlock(actor=request.user, user=user) for user in queryset)
        self.message_user(request, f"{lifted} lock{'' if lifted == 1 else 's'} lifted.", messages.SUCCESS)


@admin.register(SignInLock)
class SignInLockAdmin(AdminRoleOnly, admin.ModelAdmin):
    """Locks made by repeated failed sign-ins, by username or client address; they end by themselves, or here."""

    list_display = ["kind", "key", "locked_at", "locked_until", "unlocked_at", "unlocked_by"]
    list_filter = ["kind"]
    search_fields = ["key"]
    readonly_fields = list_display
    actions = ["lift"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # lifted by the action, which is audited, never edited

    @admin.action(description="Unlock: lift the selected locks now")
    def lift(self, request, queryset):
        for lock in queryset:
            sign_in_lock_lift(actor=request.user, lock=lock)
        self.message_user(request, "Lifted.", messages.SUCCESS)


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
