from django.urls import path

from . import journey, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in", views.sign_in, name="sign-in"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("referrals", views.referral_list, name="referral-list"),
    path("referrals/<uuid:referral_id>", views.referral_detail, name="referral-detail"),
    path("nrm-status", views.nrm_status, name="nrm-status"),
    *journey.urlpatterns,
]
