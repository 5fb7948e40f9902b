"""taplo, the TOML toolkit behind the Even Better TOML editor extension, as a real consumer of
the schemas in schemas/ (`taplo check --schema file://... FILE`).

* the real-world corpus (../shared/corpus/real), each file against the schema of its config
  version and of each release line reading that version: taplo reports an error exactly when
  migrator.checks.validate.validate() reports a schema problem, and both name the same keys and values;
* hand-written misconfigurations (tests/data/taplo/): taplo flags each on the expected line;
* schemas/catalog.json: a SchemaStore catalog whose URLs are the committed schemas' `$id`s, and
  whose fileMatch patterns taplo applies.

taplo comes from the PyPI package `taplo` (the `test` extra). It never touches the network here:
schemas are file:// URLs, no schema catalog is used unless given (only --default-schema-catalogs
would fetch one), --no-auto-config ignores any taplo.toml, and the proxy variables point to a
closed local port so that an unexpected fetch fails instead of leaving the machine.
"""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from migrator.checks import validate as V
from migrator.checks.validate import schema_path, validate

from .helpers import REPO, shared_path

SCHEMAS = REPO / "schemas"
DATA = REPO / "tests" / "data" / "taplo"
CATALOG = SCHEMAS / "catalog.json"

# Which schemas read a file of each config version: its own, and every release line's.
SCHEMAS_BY_VERSION = {
    1: ["containerd-config-v1.json"],
    2: ["containerd-config-v2.json", "containerd-1.6.json", "containerd-1.7.json"],
    3: ["containerd-config-v3.json", "containerd-2.0.json", "containerd-2.1.json",
        "containerd-2.2.json"],
    4: ["containerd-config-v4.json", "containerd-2.3.json"],
}
ALL_SCHEMAS = [name for names in SCHEMAS_BY_VERSION.values() for name in names]

# Offline guard: any HTTP(S) fetch goes to a closed local port and fails at once.
_NO_NETWORK = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
               "ALL_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
               "https_proxy": "http://127.0.0.1:9", "all_proxy": "http://127.0.0.1:9",
               "NO_PROXY": "", "no_proxy": ""}


# ---------------------------------------------------------------------------------------------
# running taplo


def _taplo_binary() -> str | None:
    """The binary the `taplo` wheel installed next to this interpreter, else one on PATH."""
    here = Path(sys.executable).parent / ("taplo.exe" if os.name == "nt" else "taplo")
    return str(here) if here.is_file() else shutil.which("taplo")


@pytest.fixture(scope="module")
def taplo() -> str:
    exe = _taplo_binary()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("taplo is not installed (it is in the test extra: pip install -e '.[test]')")
        pytest.skip("taplo is not installed (pip install -e '.[test]')")
    return exe


@dataclass(frozen=True)
class Diag:
    message: str
    file: str
    line: int          # 1-based, as taplo prints it
    col: int           # 1-based


@dataclass
class Result:
    returncode: int
    diags: list[Diag]
    output: str

    def for_file(self, path: Path) -> list[Diag]:
        return [d for d in self.diags if Path(d.file).resolve() == path.resolve()]


_DIAG = re.compile(r"^error: (?P<msg>.*)\n\s*┌─ (?P<file>.*):(?P<line>\d+):(?P<col>\d+)$", re.M)


def run_taplo(exe: str, files: list[Path], *, schema: Path | None = None,
              catalog: Path | None = None, cwd: Path | None = None) -> Result:
    cmd = [exe, "check", "--no-auto-config", "--colors", "never"]
    if schema is not None:
        cmd += ["--schema", schema.resolve().as_uri()]
    if catalog is not None:
        cmd += ["--schema-catalog", catalog.resolve().as_uri()]
    assert "--default-schema-catalogs" not in cmd
    env = {k: v for k, v in os.environ.items() if k not in ("RUST_LOG", "TAPLO_CONFIG")}
    env.update(_NO_NETWORK)
    proc = subprocess.run(cmd + [str(f) for f in files], capture_output=True, text=True,
                          encoding="utf-8", env=env, cwd=cwd or REPO, timeout=120)
    output = proc.stdout + proc.stderr
    diags = [Diag(m["msg"], m["file"], int(m["line"]), int(m["col"]))
             for m in _DIAG.finditer(output)]
    # a schema that failed to load, or any other failure, is rc 1 without a diagnostic
    assert proc.returncode in (0, 1), output
    assert (proc.returncode == 1) == bool(diags), output
    return Result(proc.returncode, diags, output)


# ---------------------------------------------------------------------------------------------
# what each side reports, as comparable identifiers

_ADDITIONAL = re.compile(r"^Additional properties are not allowed \((?P<keys>.*) (?:was|were) "
                         r"unexpected\)$")
_NO_MATCH = re.compile(r'^(?P<value>".*") does not match "(?P<pattern>.*)"$')
_VALUE_FIRST = re.compile(r"^(?P<value>.*?) (?:is not of type |is greater than |is less than )")


def _canon(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def taplo_idents(message: str) -> set[tuple[str, str]]:
    """("key", name) for an unknown key or a non-URI plugin name, ("value", json) for a value of
    the wrong type or form, ("other", message) for anything else (e.g. "invalid TOML")."""
    m = _ADDITIONAL.match(message)
    if m:
        return {("key", k) for k in re.findall(r"'([^']*)'", m["keys"])}
    m = _NO_MATCH.match(message)
    if m:
        value = json.loads(m["value"])
        if "ns|us" in m["pattern"]:                     # the Go duration pattern: a type problem
            return {("value", _canon(value))}
        return {("key", value)}                          # plugin URI patterns (names, entries)
    m = _VALUE_FIRST.match(message)
    if m:
        try:
            return {("value", _canon(json.loads(m["value"])))}
        except ValueError:
            pass
    return {("other", message)}


def _value_at(tree: Any, path: tuple) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def schema_problems(tree: dict, schema: str) -> list[V.SchemaProblem]:
    """validate()'s problems that come from the JSON Schema itself.

    validate() adds two checks that a schema cannot express, and that taplo therefore cannot
    report: runtime option near-misses in free-form `options` tables, and plugin tables an
    older release had (x-containerd-former-plugins; the schema accepts any plugin table)."""
    root = V.load_schema(schema)
    extra = set(V._option_lint(tree, root, (), V._is_1x(root))) | set(V._former_plugins(tree, root))
    return [p for p in validate(tree, schema) if p not in extra]


def validate_idents(tree: dict, problems: list[V.SchemaProblem]) -> set[tuple[str, str]]:
    out = set()
    for p in problems:
        if p.kind == "unknown-key":
            last = p.path[-1]
            out.add(("key", last if isinstance(last, str) else _value_at(tree, p.path)))
        elif p.kind == "type":
            out.add(("value", _canon(_value_at(tree, p.path))))
        else:
            out.add(("other", p.message))
    return out


# ---------------------------------------------------------------------------------------------
# (a) the schemas only use keywords that taplo reads as draft 2020-12 does


# taplo 0.9 validates with draft-7 semantics whatever "$schema" says: 2020-12-only keywords
# (prefixItems, unevaluatedProperties, dependentRequired, ...) are silently ignored. These
# keywords mean the same in both drafts ("deprecated" is an annotation in both: no error).
SHARED_KEYWORDS = {"$schema", "$id", "$comment", "title", "description", "default", "deprecated",
                   "type", "properties", "additionalProperties", "items", "propertyNames",
                   "pattern", "const", "enum", "required", "minimum", "maximum",
                   "if", "then"}   # if/then: draft 7 and 2020-12 alike (the runc options)


def _keywords(schema: Any, where: str, out: dict[str, str]) -> None:
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key.startswith("x-"):
            continue
        out.setdefault(key, where)
        if key == "properties":
            for name, sub in value.items():
                _keywords(sub, f"{where}/{name}", out)
        elif key in ("additionalProperties", "items", "propertyNames", "if", "then"):
            assert isinstance(value, (dict, bool)), (where, key)     # never an items *array*
            _keywords(value, f"{where}/{key}", out)


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_schemas_use_only_keywords_taplo_reads_alike(name):
    used: dict[str, str] = {}
    _keywords(json.loads((SCHEMAS / name).read_text(encoding="utf-8")), "", used)
    odd = {k: where for k, where in used.items() if k not in SHARED_KEYWORDS}
    assert not odd, f"keywords taplo (draft 7) may read differently: {odd}"


# ---------------------------------------------------------------------------------------------
# (b) real-world corpus: taplo agrees with validate() file by file


@functools.lru_cache(maxsize=1)
def _corpus() -> tuple[tuple[Path, int, dict], ...]:
    base = shared_path("corpus", "real")
    if base is None:
        return ()
    out = []
    for path in sorted(base.glob("*.toml")):
        try:
            tree = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue                                    # not a file containerd could load
        version = tree.get("version", 1)
        version = 1 if version == 0 else version
        if version in SCHEMAS_BY_VERSION:
            out.append((path, version, tree))
    return tuple(out)


@pytest.mark.parametrize("schema", ALL_SCHEMAS)
def test_taplo_agrees_with_validate_on_the_corpus(taplo, schema):
    if not _corpus():
        pytest.skip("../shared/corpus/real not available")
    files = [(p, tree) for p, version, tree in _corpus() if schema in SCHEMAS_BY_VERSION[version]]
    assert files, f"no corpus file of the version {schema} reads"
    counts: Counter = Counter()
    disagreements = []
    for path, tree in files:
        problems = schema_problems(tree, schema.removesuffix(".json").split("-")[-1])
        result = run_taplo(taplo, [path], schema=SCHEMAS / schema)
        taplo_says = set().union(*(taplo_idents(d.message) for d in result.diags))
        validate_says = validate_idents(tree, problems)
        agree = bool(result.diags) == bool(problems) and taplo_says == validate_says
        counts["clean" if not problems else "with problems"] += 1
        counts["agree" if agree else "disagree"] += 1
        if not agree:
            disagreements.append(
                f"{path.name}: taplo {sorted(taplo_says) or 'clean'}; "
                f"validate {sorted(validate_says) or 'clean'}")
    print(f"{schema}: {len(files)} files ({counts['clean']} clean, {counts['with problems']} with "
          f"problems), taplo agrees on {counts['agree']}, disagrees on {counts['disagree']}")
    assert not disagreements, "\n".join(disagreements)
    assert counts["clean"] > 0


def test_schema_key_of_a_file_name():
    # the helper above turns file names into validate()'s version keys
    for name in ALL_SCHEMAS:
        assert schema_path(name.removesuffix(".json").split("-")[-1]).name == name


# ---------------------------------------------------------------------------------------------
# (c) golden misconfigurations: flagged on the expected line


@dataclass(frozen=True)
class Key:
    """An unknown key (or a plugin name that is not a URI) on `line`.

    taplo reports an unexpected key at the table that holds it: the table's range (from its
    header, `table`) plus every key and value in it, the valid siblings included; the message
    names the key. So: some span starts at the key itself on `line`, and the first span is the
    header of the enclosing table."""
    line: int
    name: str
    table: int | None = None

    def ident(self) -> tuple[str, str]:
        return ("key", self.name)

    def tokens(self) -> tuple[str, ...]:
        return (self.name, json.dumps(self.name))


@dataclass(frozen=True)
class Value:
    """A value of the wrong type or form on `line` (`literal` as written in the file); taplo
    reports it with one span, at the value."""
    line: int
    literal: str

    def ident(self) -> tuple[str, str]:
        return ("value", _canon(tomllib.loads(f"v = {self.literal}")["v"]))

    def tokens(self) -> tuple[str, ...]:
        return (self.literal,)


GOLDEN: list[tuple[str, tuple[str, ...], list[Key | Value]]] = [
    ("v2-systemdcgroup-under-runc.toml",
     ("containerd-config-v2.json", "containerd-1.6.json", "containerd-1.7.json"),
     [Key(10, "SystemdCgroup", table=8)]),
    ("v3-systemdcgroup-under-runc.toml",
     ("containerd-config-v3.json", "containerd-2.0.json", "containerd-2.2.json"),
     [Key(7, "SystemdCgroup", table=5)]),
    ("v2-sandbox-images-typo.toml", ("containerd-config-v2.json", "containerd-1.7.json"),
     [Key(6, "sandbox_images", table=4)]),
    ("v3-with-v2-cri-keys.toml", ("containerd-config-v3.json", "containerd-2.1.json"),
     [Key(8, "sandbox_image", table=6), Key(10, "containerd", table=6),
      Key(13, "registry", table=6)]),
    ("v3-cni-bin-dirs.toml", ("containerd-2.0.json",), [Key(6, "bin_dirs", table=4)]),
    ("v2-string-for-integer.toml", ("containerd-config-v2.json", "containerd-1.6.json"),
     [Value(6, '"16MB"'), Value(9, '"16k"')]),
    ("v3-short-plugin-id.toml", ("containerd-config-v3.json", "containerd-2.0.json"),
     [Key(4, "cri", table=4)]),
    ("v3-durations.toml", ("containerd-config-v3.json", "containerd-2.2.json"),
     [Value(5, '"4 hours"'), Value(9, "100")]),
    ("v3-runc-option-typo.toml",     # only the runc runtime's options are closed (if/then)
     ("containerd-config-v3.json", "containerd-2.1.json", "containerd-2.2.json"),
     [Key(9, "SystemdCgroups", table=8)]),
    ("v2-disabled-plugins-short-id.toml", ("containerd-config-v2.json", "containerd-1.7.json"),
     [Key(3, "cri")]),
]
GOLDEN_CASES = [(f, s, e) for f, schemas, e in GOLDEN for s in schemas]


@pytest.mark.parametrize("file,schema,expected", GOLDEN_CASES,
                         ids=[f"{f.removesuffix('.toml')}@{s.removesuffix('.json')}"
                              for f, s, _ in GOLDEN_CASES])
def test_golden_misconfiguration_is_flagged_on_its_line(taplo, file, schema, expected):
    path = DATA / file
    source = path.read_text(encoding="utf-8").splitlines()
    result = run_taplo(taplo, [path], schema=SCHEMAS / schema)
    assert result.returncode == 1, result.output
    by_message: dict[str, list[Diag]] = {}
    for d in result.diags:
        assert Path(d.file).resolve() == path.resolve()
        by_message.setdefault(d.message, []).append(d)

    def at_token(d: Diag, tokens: tuple[str, ...]) -> bool:
        return any(source[d.line - 1][d.col - 1:].startswith(t) for t in tokens)

    explained = set()
    for exp in expected:
        hits = [m for m in by_message if exp.ident() in taplo_idents(m)]
        assert len(hits) == 1, (exp, list(by_message))
        spans = by_message[hits[0]]
        explained.add(hits[0])
        assert any(d.line == exp.line and at_token(d, exp.tokens()) for d in spans), \
            (exp, [(d.line, d.col) for d in spans])
        if isinstance(exp, Value):
            assert [(d.line, at_token(d, exp.tokens())) for d in spans] == [(exp.line, True)]
        elif exp.table is not None:
            assert spans[0].line == exp.table and spans[0].col == 1, spans[0]
            assert source[exp.table - 1].startswith("[")
    assert set(by_message) == explained, f"unexpected errors: {set(by_message) - explained}"

    # validate() finds the same problems, and nothing else
    tree = tomllib.loads("\n".join(source))
    key = schema.removesuffix(".json").split("-")[-1]
    problems = validate(tree, key)
    assert all(p.kind in ("unknown-key", "type") for p in problems), problems
    assert validate_idents(tree, problems) == {e.ident() for e in expected}


@pytest.mark.parametrize("schema", ["containerd-2.1.json", "containerd-2.2.json",
                                    "containerd-config-v3.json"])
def test_bin_dirs_is_clean_where_containerd_reads_it(taplo, schema):
    path = DATA / "v3-cni-bin-dirs.toml"
    result = run_taplo(taplo, [path], schema=SCHEMAS / schema)
    assert result.returncode == 0 and result.diags == [], result.output
    tree = tomllib.loads(path.read_text(encoding="utf-8"))
    assert validate(tree, schema.removesuffix(".json").split("-")[-1]) == []


def test_golden_files_are_all_used():
    assert {f for f, _, _ in GOLDEN} == {p.name for p in DATA.glob("*.toml")}


# ---------------------------------------------------------------------------------------------
# (d) schemas/catalog.json: a SchemaStore catalog of the committed schemas


def _catalog() -> dict:
    return json.loads(CATALOG.read_text(encoding="utf-8"))


def _committed_ids() -> dict[str, str]:
    """$id -> file name of every committed schema."""
    out = {}
    for path in sorted(SCHEMAS.glob("containerd-*.json")):
        out[json.loads(path.read_text(encoding="utf-8"))["$id"]] = path.name
    return out


def test_catalog_is_a_schemastore_catalog():
    cat = _catalog()
    assert set(cat) == {"$schema", "version", "schemas"}
    assert cat["$schema"] == "https://json.schemastore.org/schema-catalog.json"
    assert cat["version"] == 1
    assert isinstance(cat["schemas"], list) and cat["schemas"]
    for entry in cat["schemas"]:
        assert set(entry) <= {"name", "description", "fileMatch", "url", "versions"}
        assert {"name", "description", "url"} <= set(entry)
        assert all(isinstance(entry[k], str) and entry[k] for k in ("name", "description", "url"))
        assert entry["url"].startswith("https://")
        assert isinstance(entry["fileMatch"], list)
        assert len(set(entry["fileMatch"])) == len(entry["fileMatch"])
        assert all(v.startswith("https://") for v in entry.get("versions", {}).values())
    assert CATALOG.read_text(encoding="utf-8") == json.dumps(cat, indent=2,
                                                             ensure_ascii=False) + "\n"


def test_catalog_urls_are_committed_schema_ids():
    ids = _committed_ids()
    [entry] = _catalog()["schemas"]
    urls = [entry["url"], *entry["versions"].values()]
    assert [u for u in urls if u not in ids] == []
    assert ids[entry["url"]] == "containerd-config-v3.json"
    assert set(entry["versions"].values()) == set(ids)          # every committed schema listed
    for key, url in entry["versions"].items():                  # v1..v4, 1.6..2.3
        assert schema_path(key).name == ids[url], key
    assert {"**/containerd/config.toml", "**/containerd/conf.d/*.toml",
            "**/containerd/config.d/*.toml"} <= set(entry["fileMatch"])


def test_taplo_applies_the_catalog_file_matches(taplo, tmp_path):
    """The catalog with its URLs pointed at the local files (the https $ids are where the
    schemas are to be published): taplo picks the v3 schema by path alone."""
    local = CATALOG.read_text(encoding="utf-8")
    for url, name in _committed_ids().items():
        local = local.replace(f'"{url}"', json.dumps((SCHEMAS / name).resolve().as_uri()))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(local, encoding="utf-8")
    bad = (DATA / "v3-with-v2-cri-keys.toml").read_text(encoding="utf-8")
    matched = [tmp_path / "etc/containerd/config.toml",
               tmp_path / "etc/containerd/conf.d/10-cri.toml",
               tmp_path / "srv/containerd/config.d/runtime.toml"]
    unmatched = [tmp_path / "etc/containerd/config.toml.orig.toml",
                 tmp_path / "etc/other/config.toml"]
    for f in matched + unmatched:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(bad, encoding="utf-8")
    result = run_taplo(taplo, matched + unmatched, catalog=catalog, cwd=tmp_path)
    for f in matched:
        assert ("key", "sandbox_image") in set().union(
            *(taplo_idents(d.message) for d in result.for_file(f))), f
    for f in unmatched:
        assert result.for_file(f) == [], f
