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
