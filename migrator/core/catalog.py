"""What containerd-migrate knows about containerd's releases, read from migrator/releases/.

    catalog.lines()                  # {"1.6": Line(...), ...} oldest first
    catalog.line("2.4").config_version, .reads, .patches, .schema, .binary, .removed
    catalog.version(4).schema, .registry, .lines
    catalog.plugin("cri_runtime")    # a plugin URI a rule of behaviour needs by name
    catalog.since("cni-bin-dirs")    # the release a behaviour appeared in
    catalog.parse_release("v2.4.1")  # ("2.4", "2.4.1"); ValueError for an unknown line

`containerd.toml` holds the plugin URIs, the config versions and the behaviours; one
`<line>.toml` per release line holds that line's facts (the config version it writes and the
ones it reads, its patches, its key inventory and schema, the keys it added, deprecated and
removed with their provenance, its known bugs). A new containerd release is a new line file
(docs: DEVELOPERS.md, "Supporting a new containerd release"); no Python changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from migrator.speed.cache import compiled

DATA = Path(__file__).resolve().parent.parent / "releases"
_RELEASE = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+)(?:-([a-z]+)\.?(\d+))?)?")


def release_key(text: str) -> tuple[int, ...]:
    """Sort key of a line ("2.4"), a patch ("2.4.1") or a pre-release ("2.4.0-beta.0", which
    sorts before "2.4.0"). A line sorts before its patches."""
    m = _RELEASE.fullmatch(text.strip().lower())
    if m is None:
        raise ValueError(f"not a containerd release: {text!r}")
    major, minor, patch, pre, n = m.groups()
    key: tuple[int, ...] = (int(major), int(minor))
    if patch is not None:
        key += (int(patch), 1 if pre is None else 0, int(n or 0))
    return key


@dataclass(frozen=True)
class Advisory:
    id: str
    affected: tuple[str, str] | None     # first and last affected patch; None: every patch
    fixed: str | None
    source: str
    what: str = ""


@dataclass(frozen=True)
class KeyChange:
    plugin: str | None                    # None: top level
    key: str                              # dotted below the plugin table; "": the whole plugin
    provenance: str                       # binary, source or notes
    source: str
    release: str | None = None            # removed: the first release without it
    use: str | None = None
    effect: str | None = None

    @property
    def path(self) -> tuple[str, ...]:
        head = ("plugins", self.plugin) if self.plugin else ()
        return head + (tuple(self.key.split(".")) if self.key else ())


@dataclass(frozen=True)
class Line:
    line: str
    config_version: int                   # writes it; the highest version it reads
    native: tuple[int, ...]               # read without migrating in memory
    reads: tuple[int, ...]                # accepted
    first: str                            # first and newest known patch
    last: str
    pre_releases: tuple[str, ...]
    inventory: str                        # key inventory file (../shared/spec/keys)
    tag: str                              # the tag the inventory describes
    schema: str
    binary: str | None                    # the build the oracle runs
    plugin_key_pattern: str | None
    disabled_pattern: str | None
    newer_versions_read_until: str | None
    advisories: tuple[Advisory, ...] = ()
    added: tuple[KeyChange, ...] = ()
    removed: tuple[KeyChange, ...] = ()
    deprecated: tuple[KeyChange, ...] = ()
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def major(self) -> int:
        return release_key(self.line)[0]

    def advisory(self, name: str) -> Advisory | None:
        return next((a for a in self.advisories if a.id == name), None)


@dataclass(frozen=True)
class Version:
    number: int
    schema: str
    cri_runtime: tuple[str, ...]          # the table of the CRI runtime settings
    cri_images: tuple[str, ...]           # ... of the CRI image settings
    registry: tuple[str, ...]
    plugin_key_pattern: str | None
    disabled_pattern: str | None

    @property
    def lines(self) -> tuple[str, ...]:
        """The release lines that read this version natively, oldest first."""
        return tuple(k for k, v in lines().items() if self.number in v.native)


def _read(path: Path) -> dict[str, Any]:
    import tomllib  # only on a cache miss
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def _changes(entries: list[dict[str, Any]]) -> tuple[KeyChange, ...]:
    return tuple(KeyChange(e.get("plugin"), e["key"], e["provenance"], e["source"],
                           e.get("in"), e.get("use"), e.get("effect")) for e in entries)


@cache
def _documents() -> dict[str, dict[str, Any]]:
    """Every file of the catalog, parsed, by name; kept in the compiled cache (parsing the
    TOML was a sixth of a one-file run)."""
    files = sorted(DATA.glob("*.toml"))
    return compiled("catalog", files, lambda: {path.name: _read(path) for path in files})


def _general() -> dict[str, Any]:
    return _documents()["containerd.toml"]


@cache
def lines() -> dict[str, Line]:
    """Every release line of the catalog, oldest first."""
    out = []
    for name, d in _documents().items():
        if name == "containerd.toml":
            continue
        advisories = tuple(Advisory(a["id"], tuple(a["affected"]) if "affected" in a else None,
                                    a.get("fixed"), a["source"], a.get("what", ""))
                           for a in d.get("advisories", []))
        out.append(Line(
            d["line"], d["config_version"], tuple(d["native"]), tuple(d["reads"]),
            d["patches"]["first"], d["patches"]["last"], tuple(d.get("pre_releases", ())),
            d["inventory"]["file"], d["inventory"]["tag"], d["schema"], d.get("binary"),
            d.get("plugin_key_pattern"), d.get("disabled_pattern"),
            d.get("newer_versions_read_until"), advisories, _changes(d.get("added", [])),
            _changes(d.get("removed", [])), _changes(d.get("deprecated", [])), d))
    return {x.line: x for x in sorted(out, key=lambda x: release_key(x.line))}


def line(name: str) -> Line:
    return lines()[name]


@cache
def versions() -> dict[int, Version]:
    out = {}
    for number, d in sorted(_general()["versions"].items(), key=lambda kv: int(kv[0])):
        out[int(number)] = Version(int(number), d["schema"], tuple(d["cri_runtime"]),
                                   tuple(d["cri_images"]), tuple(d["registry"]),
                                   d.get("plugin_key_pattern"), d.get("disabled_pattern"))
    return out


def version(number: int) -> Version:
    return versions()[number]


def plugin(name: str) -> str:
    """A plugin URI by its catalog name (containerd.toml [plugins])."""
    return str(_general()["plugins"][name])


def runtime(name: str) -> str:
    """A runtime type by its catalog name (containerd.toml [runtimes])."""
    return str(_general()["runtimes"][name])


def since(feature: str) -> str:
    """The release in which a behaviour of containerd.toml [features] appeared."""
    return str(_general()["features"][feature]["since"])


def parse_release(text: str) -> tuple[str, str | None]:
    """(line, patch or None) of "2.4", "v2.4.1", "2.4.0-beta.0"; ValueError if the line is not
    in the catalog."""
    m = _RELEASE.fullmatch(str(text).strip().lower())
    if m is None:
        raise ValueError(f"not a containerd release: {text!r}")
    name = f"{int(m[1])}.{int(m[2])}"
    if name not in lines():
        raise ValueError(f"unknown containerd release line {name!r}")
    if m[3] is None:
        return name, None
    patch = f"{name}.{int(m[3])}" + (f"-{m[4]}.{int(m[5])}" if m[4] else "")
    return name, patch


def affected(advisory: str, line_name: str, patch: str | None) -> bool | None:
    """Whether a target meets an advisory: True certainly, None when only some patches of the
    line do (the target names the line only), False certainly not. Pre-releases count only
    when named."""
    entry = lines()[line_name].advisory(advisory) if line_name in lines() else None
    if entry is None:
        return False
    if entry.affected is None:
        return True
    lo, hi = (release_key(x) for x in entry.affected)
    if patch is not None:
        return lo <= release_key(patch) <= hi
    this = lines()[line_name]
    first, last = release_key(this.first), release_key(this.last)
    if hi < first or lo > last:
        return False
    return True if lo <= first and hi >= last else None


def removal(line_name: str, path: tuple[str, ...]) -> KeyChange | None:
    """The catalog's record of a key (or of a table above it) that this line, or a line
    before it, removed; the newest record first."""
    if line_name not in lines():
        return None
    path = tuple(path)
    for name, entry in reversed(lines().items()):
        if release_key(name) <= release_key(line_name):
            hit = next((c for c in entry.removed if path[:len(c.path)] == c.path), None)
            if hit is not None:
                return hit
    return None
