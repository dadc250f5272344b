"""The layout's rules, checked on the source: `common` imports no service, and no service imports another
(services talk only through Redis)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in ROOT.glob("*_service") if p.is_dir())


def imported_packages(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_common_imports_no_service() -> None:
    imports = imported_packages("common")
    assert {service: imports[service] for service in SERVICES if service in imports} == {}


def test_no_service_imports_another() -> None:
    assert len(SERVICES) == 7
    for service in SERVICES:
        imports = imported_packages(service)
        others = {other: imports[other] for other in SERVICES if other != service and other in imports}
        assert others == {}, service
