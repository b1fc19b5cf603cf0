from django.urls import path

from opennrm.decisions import letters

from . import decision_views, journey, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in", views.sign_in, name="sign-in"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("referrals", views.referral_list, name="referral-list"),
    path("referrals/<uuid:referral_id>", views.referral_detail, name="referral-detail"),
    path("referrals/<uuid:referral_id>/decisions/<uuid:decision_id>/letter", letters.letter_page, name="decision-letter"),
    path("referrals/<uuid:referral_id>/decisions/<uuid:decision_id>/letter.pdf", letters.letter_pdf_download, name="decision-letter-pdf"),
    path("nrm-status", views.nrm_status, name="nrm-status"),
    path("queue", decision_views.work_queue, name="work-queue"),
    path("queue/assign", decision_views.work_queue_assign, name="work-queue-assign"),
    path("referrals/<uuid:referral_id>/assignment", decision_views.referral_assign, name="referral-assign"),
    path("referrals/<uuid:referral_id>/decision", decision_views.decision_new, name="decision-new"),
    path("referrals/<uuid:referral_id>/decisions/<uuid:decision_id>", decision_views.decision_review, name="decision-review"),
    path("referrals/<uuid:referral_id>/reconsideration", decision_views.reconsideration_new, name="reconsideration-new"),
    *journey.urlpatterns,
]
