"""The referral journey in the pages (being built)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path


@login_required
def referral_start(request):
    return render(request, "referrals/journey/start.html", {"title": "Make a referral"})


urlpatterns = [path("referrals/new", referral_start, name="referral-start")]
