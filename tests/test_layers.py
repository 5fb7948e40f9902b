"""The package's layers: an inner module never imports an outer one (issue 17).

Inner to outer, the order the pipeline runs in, then what is built on it:
the version literal, speed, core (load, source map, catalog, rules, engine), emit, checks (verify, accounting,
schemas), report, pipeline, features (settings, hosts.toml, imports), lint, cli, and the
package's own `__init__` (the public API). Imports inside functions count as well: a lazy
import is still a dependency.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .helpers import REPO

PACKAGE = REPO / "migrator"
LAYERS = ("_version", "speed", "core", "emit", "checks", "report", "pipeline", "features", "lint", "cli",
          "__init__")


def layer_of(module: str) -> str:
    """migrator.core.engine -> core; migrator.pipeline -> pipeline; migrator -> __init__."""
    parts = module.split(".")
    assert parts[0] == "migrator", module
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("__init__", "__main__"):
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    return imports_in(path.read_text(encoding="utf-8"), module_name(path),
                      path.name == "__init__.py")


def imports_in(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) of every migrator module the source imports, at any depth."""
    tree = ast.parse(source)
    here = module.split(".")
    package = here if is_package else here[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("migrator")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            if base == "migrator":  # `from migrator import core` names a subpackage;
                # `from migrator import __version__` takes a name of the public API (__init__)
                out += [(node.lineno, f"migrator.{a.name}" if a.name in LAYERS else "migrator")
                        for a in node.names]
            elif base.startswith("migrator."):
                out.append((node.lineno, base))
    return out


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_data" not in p.parts)


def test_every_module_has_a_layer():
    for path in modules():
        name = module_name(path)
        assert layer_of(name) in LAYERS, f"{path}: not in a layer of {LAYERS}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_inner_layers_never_import_outer_ones(path: Path):
    mine = LAYERS.index(layer_of(module_name(path)))
    wrong = [f"{path.relative_to(REPO)}:{line}: {layer_of(module_name(path))} imports {target} "
             f"({layer_of(target)} is an outer layer)"
             for line, target in imports_of(path)
             if layer_of(target) in LAYERS and LAYERS.index(layer_of(target)) > mine]
    assert not wrong, "\n".join(wrong)


def test_the_runtime_package_does_not_import_pytest():
    """The containerd harness (tests/oracle.py) is test code: nothing shipped imports pytest."""
    for path in modules():
        names = {a.name for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Import) for a in node.names}
        names |= {node.module for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                  if isinstance(node, ast.ImportFrom) and node.module}
        assert not {n for n in names if n.split(".")[0] in ("pytest", "tests")}, path


def test_the_check_sees_lazy_and_relative_imports():
    """A function of core that imports the CLI, absolutely or relatively, is seen."""
    source = (PACKAGE / "core" / "engine.py").read_text(encoding="utf-8")
    for extra in ("from migrator.cli import commands", "from ..cli import commands",
                  "import migrator.features.hosts", "from migrator import lint",
                  "from migrator import __version__"):
        found = {t for _, t in imports_in(source + f"\n\ndef _x():\n    {extra}\n",
                                          "migrator.core.engine", False)}
        outer = {layer_of(t) for t in found} - {"core"}
        assert outer & {"cli", "features", "lint", "__init__"}, extra
