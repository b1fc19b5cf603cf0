"""The administrator's pages: users, organisations and closure days. No case content is registered here.

Administrators are accountable (issue 22): every add, change and delete made here, bulk and inline ones too, goes
through a service that writes it to the audit chain with before and after (AuditedAdmin); an administrator never
chooses another user's password (a link is sent instead); and widening a user's access or resetting their second
factor waits for a second, different administrator (AccessRequest).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import logout
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.audit.services import record_delete, record_relations_set, record_save
from opennrm.core.errors import NotAllowed, Refused
from opennrm.policy import Capability, has_capability
from opennrm.workdays.models import ClosureDay
from opennrm.workdays.services import closure_day_delete, closure_day_save

from .models import AccessRequest, Organisation, SignInLock, Team, User
from .services import (
    FourEyesRefused,
    access_request_approve,
    access_request_refuse,
    organisation_save,
    password_reset_link_send,
    second_factor_reset_request,
    sign_in_lock_lift,
    team_save,
    user_save,
    user_sign_in_unlock,
    user_signed_out,
)


def sign_in_instead(request, extra_context=None):
    """The admin signs in through the service's own sign-in page, with its lock-out and second factor."""
    if request.user.is_authenticated:
        return redirect("web:home")
    return redirect(
        reverse("web:sign-in") + "?" + urlencode({"next": request.GET.get("next") or reverse("admin:index")})
    )


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
# Roles decide what a user may do (policy.py), never Django's groups and permissions: nothing to edit there.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class AuditedAdmin:
    """Every add, change and delete of the admin page, bulk deletes and inline rows included, goes through a service
    (keyword-only, actor=, atomic) that writes the audit chain with before and after. A page whose record has a
    service of its own names it in save_record / delete_record; the rest use the generic audit services."""

    def save_record(self, *, actor, obj):
        return record_save(actor=actor, instance=obj)

    def delete_record(self, *, actor, obj) -> None:
        record_delete(actor=actor, instance=obj)

    def save_model(self, request, obj, form, change):
        self.save_record(actor=request.user, obj=obj)

    def delete_model(self, request, obj):
        self.delete_record(actor=request.user, obj=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self.delete_record(actor=request.user, obj=obj)

    def save_related(self, request, form, formsets, change):
        with transaction.atomic():
            relations = {
                f.name: form.cleaned_data[f.name]
                for f in form.instance._meta.many_to_many
                if f.name in form.cleaned_data
            }
            if relations:
                record_relations_set(actor=request.user, instance=form.instance, relations=relations)
            for formset in formsets:
                for obj in formset.save(commit=False):
                    self.save_record(actor=request.user, obj=obj)
                for obj in formset.deleted_objects:
                    self.delete_record(actor=request.user, obj=obj)


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
class OrganisationAdmin(AdminRoleOnly, AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "kind", "local_authority", "competent_authority", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]

    def save_record(self, *, actor, obj):
        return organisation_save(actor=actor, organisation=obj)


class UserAddForm(forms.ModelForm):
    """A new account, without a password: its holder is emailed a link to set their own."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "organisation", "role", "team"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = "The link to set their password is sent here"
        self.fields["role"].help_text = (
            "A role that sees case content, or grants access, starts only once a second administrator "
            "approves it (Access requests)"
        )


@admin.register(User)
class UserAdmin(AdminRoleOnly, AuditedAdmin, BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "organisation", "team", "is_active"]
    list_filter = ["role", "organisation", "is_active"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        ("Access", {"fields": ["organisation", "role", "team", "is_active"]}),
        ("History", {"fields": ["last_login", "date_joined"]}),
    ]
    add_form = UserAddForm
    add_fieldsets = [(None, {"classes": ["wide"], "fields": UserAddForm.Meta.fields})]
    readonly_fields = ["last_login", "date_joined"]
    actions = ["send_password_links", "request_second_factor_reset", "unlock_sign_in"]

    def save_record(self, *, actor, obj):
        return user_save(actor=actor, user=obj)

    def save_model(self, request, obj, form, change):
        try:
            super().save_model(request, obj, form, change)
        except NotAllowed as refused:
            raise PermissionDenied(str(refused))
        if obj.access_requests.filter(
            status=AccessRequest.Status.PENDING, requested_by=request.user, kind=AccessRequest.Kind.ACCESS
        ).exists():
            self.message_user(
                request,
                f"{obj.username}'s new access (role or organisation) waits for a second administrator to approve it "
                "under Access requests; until then the account keeps what it had.",
                messages.WARNING,
            )

    def user_change_password(self, request, id, form_url=""):
        """Where Django's admin lets an administrator type another user's password, OpenNRM sends the user a link to set
        their own: an administrator who chose it could sign in as them."""
        user = self.get_object(request, unquote(id))  # None for an id that is not one, as Django's own view
        if user is None:
            raise Http404("No such user")
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        if request.method == "POST":
            self._send_password_links(request, [user])
            return redirect(reverse("admin:accounts_user_change", args=[user.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Send {user.username} a link to set their password",
            "user_account": user,
            "opts": self.opts,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/accounts/user/send_password_link.html", context)

    def _send_password_links(self, request, users) -> None:
        for user in users:
            try:
                password_reset_link_send(actor=request.user, user=user)
            except Refused as missing:  # no email address to send the link to
                self.message_user(request, str(missing), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"A link to set their password is on its way to {user.username} at {user.email}.",
                    messages.SUCCESS,
                )

    @admin.action(description="Send the selected users a link to set their password")
    def send_password_links(self, request, queryset):
        self._send_password_links(request, list(queryset))

    @admin.action(description="Reset the second factor of the selected users: asks a second administrator to approve")
    def request_second_factor_reset(self, request, queryset):
        for user in queryset:
            second_factor_reset_request(actor=request.user, user=user)
        self.message_user(
            request,
            f"Asked for {queryset.count()} second factor resets: another administrator approves them under "
            "Access requests, and each user then sets up a new authenticator app at their next sign-in.",
            messages.SUCCESS,
        )

    @admin.action(description="Unlock signing in for the selected users")
    def unlock_sign_in(self, request, queryset):
        lifted = sum(user_sign_in_unlock(actor=request.user, user=user) for user in queryset)
        self.message_user(request, f"{lifted} lock{'' if lifted == 1 else 's'} lifted.", messages.SUCCESS)


@admin.register(AccessRequest)
class AccessRequestAdmin(AdminRoleOnly, AuditedAdmin, admin.ModelAdmin):
    """The four-eyes rule: a request is decided by an administrator other than the one who asked (and not its subject)."""

    list_display = [
        "kind",
        "user",
        "role",
        "organisation",
        "team",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status", "kind"]
    readonly_fields = list_display
    actions = ["approve", "refuse"]

    def has_add_permission(self, request):
        return False  # asked for by changing a user

    def has_change_permission(self, request, obj=None):
        return False  # decided by the actions, which are audited

    def _decide(self, request, queryset, decide, done: str):
        decided = 0
        for access_request in queryset:
            try:
                decide(actor=request.user, access_request=access_request)
                decided += 1
            except (FourEyesRefused, Refused) as refused:  # another must decide; already decided
                self.message_user(request, f"{access_request}: {refused}", messages.ERROR)
        if decided:
            self.message_user(request, f"{decided} request{'' if decided == 1 else 's'} {done}.", messages.SUCCESS)

    @admin.action(description="Approve the selected requests (you cannot approve your own)")
    def approve(self, request, queryset):
        self._decide(request, queryset, access_request_approve, "approved")

    @admin.action(description="Refuse the selected requests")
    def refuse(self, request, queryset):
        self._decide(request, queryset, access_request_refuse, "refused")


@admin.register(SignInLock)
class SignInLockAdmin(AdminRoleOnly, AuditedAdmin, admin.ModelAdmin):
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
class TeamAdmin(AdminRoleOnly, AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "organisation", "manager", "email"]
    list_filter = ["organisation"]
    search_fields = ["name"]

    def save_record(self, *, actor, obj):
        return team_save(actor=actor, team=obj)


@admin.register(ClosureDay)
class ClosureDayAdmin(AdminRoleOnly, AuditedAdmin, admin.ModelAdmin):
    list_display = ["date", "nation", "description"]
    list_filter = ["nation"]

    def has_delete_permission(self, request, obj=None):
        return has_capability(request.user, Capability.MANAGE_CALENDAR)

    def save_record(self, *, actor, obj):
        return closure_day_save(actor=actor, closure=obj)

    def delete_record(self, *, actor, obj) -> None:
        closure_day_delete(actor=actor, closure=obj)
