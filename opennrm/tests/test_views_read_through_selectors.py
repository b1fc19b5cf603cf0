"""Views (the pages and the API) never read a sensitive model directly: they go through the selectors, which take
the acting user and scope the query (contract section 5, ADR 0003). Checked on the source, so a new view is held to
it the day it is written."""

import ast
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]
VIEW_PACKAGES = ("web", "api")
SENSITIVE_APPS = ("referrals", "decisions", "safeguarding", "linkage", "audit")


def sensitive_model_names() -> set[str]:
    return {model.__name__ for label in SENSITIVE_APPS for model in apps.get_app_config(label).get_models()}


def direct_reads(path: Path, names: set[str], root: Path = ROOT) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("objects", "_base_manager", "_default_manager")
            and isinstance(node.value, ast.Name)
            and node.value.id in names
        ):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_view_reads_a_sensitive_model_directly():
    names = sensitive_model_names()
    assert {"Referral", "MissingEpisode", "MatchCandidate", "AuditEvent"} <= names
    views = [p for package in VIEW_PACKAGES for p in (ROOT / package).rglob("*.py") if "tests" not in p.parts]
    assert len(views) > 10
    assert [hit for path in views for hit in direct_reads(path, names)] == []


def test_the_check_finds_a_direct_read(tmp_path):
    # The control: the same check on a view that does read a model directly.
    view = tmp_path / "views.py"
    view.write_text(
        "from opennrm.referrals.models import Referral\n\ndef page(request):\n    return Referral.objects.all()\n"
    )
    assert direct_reads(view, sensitive_model_names(), root=tmp_path) == ["views.py:4: Referral.objects"]
