"""The lint rules, one module each, in the order they run.

CM002 (unknown keys) runs last: the rules before it claim the keys they explain better
(a runtime option at the wrong level, a version-2 key in a version-3 file, a removed key), and
CM002 reports only what is left.
"""
from __future__ import annotations

import importlib

from migrator.lint.base import REGISTRY, LintRule

MODULES = (
    "cm001_runtime_option_level",
    "cm003_schema_mismatch",
    "cm004_removed_keys",
    "cm005_mirrors_with_config_path",
    "cm006_runtime_definitions",
    "cm007_cri_disabled",
    "cm008_version",
    "cm009_sandbox_image",
    "cm010_cgroup_driver",
    "cm011_imports",
    "cm012_release_advisories",
    "cm002_unknown_key",
)

for _name in MODULES:
    importlib.import_module(f"migrator.lint.{_name}")

#: rule id -> LintRule, sorted by id (CM001 ... CM012)
RULES: dict[str, LintRule] = dict(sorted(REGISTRY.items()))
_RUN_ORDER = [r for m in MODULES for r in REGISTRY.values()
              if r.module == f"migrator.lint.{m}"]


def rules() -> list[LintRule]:
    """The rules in the order they run."""
    return list(_RUN_ORDER)
