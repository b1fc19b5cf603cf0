from django.urls import path

from . import (
    account_views,
    dashboard_views,
    decision_views,
    journey,
    letter_views,
    linkage_views,
    safeguarding_views as sv,
    views,
)

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in", account_views.sign_in, name="sign-in"),
    path("sign-in/code", account_views.second_factor, name="second-factor"),
    path("sign-in/authenticator-app", account_views.second_factor_set_up, name="second-factor-set-up"),
    path("sign-out", account_views.sign_out, name="sign-out"),
    path("password-reset/<uidb64>/<token>", account_views.password_reset, name="password-reset"),
    path("account/password", account_views.password_change, name="password-change"),
    path("session", account_views.session_status, name="session-status"),
    path("session/keep-alive", account_views.session_keep_alive, name="session-keep-alive"),
    path("referrals", views.referral_list, name="referral-list"),
    path("referrals/<uuid:referral_id>", views.referral_detail, name="referral-detail"),
    path("referrals/<uuid:referral_id>/access-log", views.referral_access_log, name="referral-access-log"),
    path(
        "referrals/<uuid:referral_id>/decisions/<uuid:decision_id>/letter",
        letter_views.letter_page,
        name="decision-letter",
    ),
    path(
        "referrals/<uuid:referral_id>/decisions/<uuid:decision_id>/letter.pdf",
        letter_views.letter_pdf_download,
        name="decision-letter-pdf",
    ),
    path("nrm-status", views.nrm_status, name="nrm-status"),
    path("queue", decision_views.work_queue, name="work-queue"),
    path("dashboard", dashboard_views.dashboard, name="dashboard"),
    path("queue/assign", decision_views.work_queue_assign, name="work-queue-assign"),
    path("referrals/<uuid:referral_id>/assignment", decision_views.referral_assign, name="referral-assign"),
    path("referrals/<uuid:referral_id>/decision", decision_views.decision_new, name="decision-new"),
    path(
        "referrals/<uuid:referral_id>/decisions/<uuid:decision_id>",
        decision_views.decision_review,
        name="decision-review",
    ),
    path(
        "referrals/<uuid:referral_id>/reconsideration", decision_views.reconsideration_new, name="reconsideration-new"
    ),
    path("referrals/<uuid:referral_id>/safeguarding", sv.safeguarding_page, name="safeguarding"),
    path("referrals/<uuid:referral_id>/safeguarding/care", sv.record_care, name="safeguarding-care"),
    path("referrals/<uuid:referral_id>/safeguarding/transfer", sv.transfer, name="safeguarding-transfer"),
    path("referrals/<uuid:referral_id>/safeguarding/age-assessment", sv.record_age_assessment, name="safeguarding-age"),
    path("referrals/<uuid:referral_id>/safeguarding/guardian", sv.allocate_guardian, name="safeguarding-guardian"),
    path("referrals/<uuid:referral_id>/safeguarding/note", sv.add_case_note, name="safeguarding-note"),
    path("referrals/<uuid:referral_id>/missing", sv.report_missing, name="missing-report"),
    path("referrals/<uuid:referral_id>/missing/<uuid:episode_id>/found", sv.record_found, name="missing-found"),
    path(
        "referrals/<uuid:referral_id>/missing/<uuid:episode_id>/acknowledge",
        sv.acknowledge_missing,
        name="missing-acknowledge",
    ),
    path(
        "referrals/<uuid:referral_id>/missing/<uuid:episode_id>/return-interview",
        sv.record_return_interview,
        name="missing-interview",
    ),
    path("missing-now", sv.missing_now, name="missing-now"),
    path("safeguarding", sv.safeguarding_queue, name="safeguarding-queue"),
    path("duplicates", linkage_views.duplicates_queue, name="duplicates"),
    path("duplicates/<uuid:candidate_id>", linkage_views.duplicate_candidate, name="duplicate"),
    path("people/<uuid:person_id>", linkage_views.person_detail, name="person"),
    path("people/<uuid:person_id>/unlink/<uuid:referral_id>", linkage_views.person_unlink, name="person-unlink"),
    # The referral journey (web/journey.py).
    path("referrals/new", journey.referral_start, name="referral-start"),
    path("referrals/drafts/<uuid:draft_id>", journey.draft_resume, name="draft-resume"),
    path("referrals/drafts/<uuid:draft_id>/situations", journey.situations_page, name="draft-situations"),
    path("referrals/drafts/<uuid:draft_id>/situations/<int:number>", journey.situation_page, name="draft-situation"),
    path(
        "referrals/drafts/<uuid:draft_id>/situations/<int:number>/remove",
        journey.situation_remove,
        name="draft-situation-remove",
    ),
    path("referrals/drafts/<uuid:draft_id>/check", journey.check_answers, name="draft-check"),
    path("referrals/drafts/<uuid:draft_id>/delete", journey.draft_delete, name="draft-delete"),
    path("referrals/drafts/<uuid:draft_id>/<slug:slug>", journey.question_page, name="draft-page"),
    path("referrals/<uuid:referral_id>/sent", journey.referral_sent, name="referral-sent"),
    path("duty-to-notify/<uuid:report_id>", journey.duty_to_notify_sent, name="duty-to-notify-sent"),
]
