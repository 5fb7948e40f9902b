"""containerd itself agrees that a lint fix means what the user meant, and that the linter does
not call a file broken that containerd loads cleanly.

* Fixed golden cases: the release named in `# oracle X.Y:` lines dumps the fixed file; the
  asserted values hold there (e.g. SystemdCgroup = true at the effective path after CM001 moved
  it into options), the bad file's values hold there too (`# oracle-bad`), the fixed file logs
  no warning the bad one did not, and the two dumps differ only at the asserted (or
  `# oracle-allow`ed) paths: the fix changed the misconfiguration and nothing else.
* The corpus (shared/corpus/real): every file that its native release (1.7 for versions 1-2,
  2.1 for 3, 2.3 for 4) loads with no warning and no error gets no error-level finding when
  linted for that release, except the files in EXCEPTIONS, each with the reason containerd's
  `config dump` cannot show the problem.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from migrator.lint import lint

from ..helpers import shared_path
from .cases import Case, cases

oracle = pytest.importorskip("tests.oracle")
pytestmark = pytest.mark.oracle

CORPUS = shared_path("corpus", "real")
NATIVE = {1: "1.7", 2: "1.7", 3: "2.1", 4: "2.3"}

#: corpus files that load cleanly but are wrong in a way `config dump` cannot show
EXCEPTIONS = {
    "azure__agentbaker__aks-node-controller_parser_templates_containerd_v2__nvidia.rendered.toml":
        "CM003: a version 2 file with io.containerd.cri.v1.images/runtime tables; containerd "
        "1.7 ignores unknown plugin tables silently (facts E16), so its sandbox image, "
        "snapshotter, registry and runtimes never apply on 1.7",
    "lima-vm__lima__templates_k8s.yaml__conf.d-k8s-heredoc.rendered.toml":
        "CM003: a version 2 file with an io.containerd.cri.v1.runtime table, ignored silently "
        "by containerd 1.7",
    "rancher-sandbox__rancher-desktop__k3s-containerd-config__wasm.rendered.toml":
        "CM003: a version 2 file with an io.containerd.cri.v1.images table, ignored silently "
        "by containerd 1.7",
    "azure__agentbaker__staging_cse_windows_containerd2template__hyperv.rendered.toml":
        "CM003: [plugins.cri] (a short plugin ID) in a version 3 file; containerd 2.1 keeps it "
        "as an inert raw table without a warning (facts E16), so the hyper-v runtimes are "
        "never defined",
}

FIXED = [c for c in cases("bad") if c.fixed is not None]


def _get(tree: Any, path: tuple) -> Any:
    for key in path:
        if not isinstance(tree, (dict, list)):
            return KeyError
        try:
            tree = tree[key]
        except (KeyError, IndexError, TypeError):
            return KeyError
    return tree


def _line(case: Case) -> str:
    lines = {line for line, _, _ in case.oracle + case.oracle_bad}
    assert len(lines) <= 1, f"{case.id}: one release per case"
    if lines:
        return lines.pop()
    return lint(case.data, file=str(case.path), **case.options).target.label


@pytest.mark.parametrize("case", FIXED, ids=lambda c: c.id)
def test_containerd_reads_the_fix_as_meant(case: Case) -> None:
    assert case.fixed is not None
    assert case.oracle, f"{case.id}: a fixed case needs an `# oracle X.Y:` assertion"
    line = _line(case)
    oracle.require_containerd(line)
    bad = oracle.dump(line, case.data)
    fixed = oracle.dump(line, case.fixed.read_bytes())
    assert fixed.returncode == 0, fixed.stderr
    for _, path, value in case.oracle:
        assert _get(fixed.config, path) == value, path
    for _, path, value in case.oracle_bad:
        assert _get(bad.config, path) == value, path
    if bad.returncode != 0:
        return  # the bad file does not load at all (e.g. a short plugin ID on 1.7)
    assert oracle.new_warnings(bad, fixed) == []
    allowed = [path for _, path, _ in case.oracle] + case.oracle_allow
    assert oracle.compare(bad.config, fixed.config, allowed=allowed) == []


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.toml")) if CORPUS is not None else []


def native_lines(version: int) -> list[str]:
    """Every release line that reads this config version natively (1.x for versions 1-2),
    from the release lines the rules files declare."""
    from migrator.core import rules
    return [line for line, reads in rules.release_lines().items() if reads == max(version, 2)]


def _version(data: bytes) -> int:
    version = tomllib.loads(data.decode("utf-8").lstrip("\ufeff")).get("version", 1)
    return version if isinstance(version, int) and not isinstance(version, bool) else 2


def _corpus_cases() -> list[tuple[Path, str]]:
    out = []
    for path in corpus_files():
        try:
            version = _version(path.read_bytes())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            version = 2
        out.extend((path, line) for line in native_lines(version))
    return out


_DUMPS: dict[tuple[str, str], Any] = {}


def _dump(line: str, path: Path, data: bytes) -> Any:
    """config dump, once per file and release in this session."""
    key = (line, path.name)
    if key not in _DUMPS:
        _DUMPS[key] = oracle.dump(line, data)
    return _DUMPS[key]


@pytest.mark.skipif(CORPUS is None, reason="shared/corpus/real not found (set CONTAINERD_SHARED)")
@pytest.mark.parametrize("path,line", _corpus_cases(),
                         ids=[f"{p.name[:72]}@{line}" for p, line in _corpus_cases()])
def test_no_error_on_files_containerd_loads_cleanly(path: Path, line: str) -> None:
    """Each release line that reads the file's config version natively: a file it loads with
    no warning gets no error-level finding when linted for that line (docs/rules.md,
    "Severities": an error is a setting containerd drops or refuses, and a clean load on a
    native release means nothing was dropped that `config dump` can show)."""
    data = path.read_bytes()
    oracle.require_containerd(line)
    dump = _dump(line, path, data)
    result = lint(data, file=path.name, containerd=line)
    errors = [f.format(path.name) for f in result.errors]
    clean = dump.returncode == 0 and not dump.warnings and not dump.errors
    if not clean:
        pytest.skip(f"containerd {line} does not load it cleanly: "
                    f"{(dump.warnings + dump.errors)[:1]}")
    if path.name in EXCEPTIONS:
        if line == NATIVE.get(_version(data), "1.7"):
            assert errors, f"{path.name} is listed as an exception but has no error any more"
        return
    assert errors == []


@pytest.mark.skipif(CORPUS is None, reason="shared/corpus/real not found (set CONTAINERD_SHARED)")
def test_exceptions_name_corpus_files() -> None:
    names = {p.name for p in corpus_files()}
    assert set(EXCEPTIONS) <= names
