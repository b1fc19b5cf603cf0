"""Every package of the application has its place in the layers that `make test` holds it to (pyproject.toml's
import contracts, run by lint-imports): a package left out of them could import anything and be imported by
anything, and a cycle through it would pass unseen."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_LAYERED = {"tests"}  # the cross-cutting tests build what they check with, from any layer


def layered_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    return {name.strip() for layer in layers for name in layer.split("|")}


def application_packages() -> set[str]:
    found = {f"opennrm.{p.parent.name}" for p in (ROOT / "opennrm").glob("*/__init__.py")}
    found |= {f"opennrm.{p.stem}" for p in (ROOT / "opennrm").glob("*.py") if p.stem == "policy"}
    return found - {f"opennrm.{name}" for name in NOT_LAYERED}


def test_every_package_has_its_layer():
    assert application_packages() - layered_packages() == set()


def test_every_layer_names_a_package_that_exists():
    assert layered_packages() - application_packages() == set()
