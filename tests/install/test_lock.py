"""requirements.lock (what the Docker image installs, hash-checked) agrees with pyproject.toml's
ranges and with the versions this test run is using, so a deploy gets what CI tested.
Refresh it with `./scripts/lock`."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if m := PIN.match(line):
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(r) for r in project["dependencies"]]


def test_every_pin_carries_a_hash() -> None:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[1])
    pinned = [e for e in entries if PIN.match(e)]
    assert pinned
    for entry in pinned:
        assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_lock_pins_every_runtime_dependency_within_its_range() -> None:
    pins = locked()
    for req in runtime_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in requirements.lock: run ./scripts/lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={pins[name]}, outside {req}: run ./scripts/lock"
        )


def test_the_lock_holds_what_the_runtime_dependencies_require() -> None:
    """Each locked package's own requirements (for this platform) are locked too."""
    pins = locked()
    for name in pins:
        for spec in metadata.requires(name) or []:
            req = Requirement(spec)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            assert canonicalize_name(req.name) in pins, f"{name} needs {req}, not locked"


def test_the_tested_versions_are_the_locked_ones() -> None:
    pins = locked()
    drift = {
        name: (pin, metadata.version(name))
        for name, pin in pins.items()
        if metadata.version(name) != pin
    }
    assert not drift, f"tested vs locked versions differ {drift}: run ./scripts/lock"


def test_the_docker_image_installs_from_the_lock() -> None:
    docker = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --require-hashes -r requirements.lock" in docker
    assert "pip install --no-deps ." in docker
    assert docker.index("requirements.lock") < docker.index("COPY monitor")
    assert re.search(r"^USER (?!root)\w+", docker, flags=re.M)
    assert "HEALTHCHECK" in docker
