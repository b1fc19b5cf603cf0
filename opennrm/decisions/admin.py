"""The administrator's page for routing rules: no case content, every change through the audited service."""

from django.contrib import admin
from django.core.exceptions import ValidationError

from opennrm.accounts.admin import AdminRoleOnly, AuditedAdmin
from opennrm.core.errors import Invalid
from opennrm.policy import Capability, has_capability

from .models import RoutingRule
from .services import routing_rule_save


@admin.register(RoutingRule)
class RoutingRuleAdmin(AdminRoleOnly, AuditedAdmin, admin.ModelAdmin):
    list_display = ["kind", "local_authority", "effective_from", "effective_to", "panel_period_days"]
    list_filter = ["kind"]
    fields = ["kind", "local_authority", "effective_from", "effective_to", "panel_period_days", "description"]

    def has_module_permission(self, request):
        return has_capability(request.user, Capability.MANAGE_ROUTING)

    def has_view_permission(self, request, obj=None):
        return has_capability(request.user, Capability.MANAGE_ROUTING)

    has_add_permission = has_module_permission
    has_change_permission = has_view_permission

    def save_record(self, *, actor, obj):
        try:
            return routing_rule_save(actor=actor, rule=obj)
        except Invalid as exc:  # the form's own clean() runs the same checks first; this is a backstop
            raise ValidationError({exc.field: exc.message})
