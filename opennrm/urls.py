from django.contrib import admin
from django.urls import include, path

from opennrm.api.api import api

admin.site.site_header = "OpenNRM administration"
admin.site.site_title = "OpenNRM administration"

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("opennrm.web.urls")),
]

# The GOV.UK pages for "no" (web/error_views.py); the API's own errors stay JSON.
handler403 = "opennrm.web.error_views.permission_denied"
handler404 = "opennrm.web.error_views.page_not_found"
handler500 = "opennrm.web.error_views.server_error"
