"""Version-independent setting names: edit a containerd config without knowing its version.

    cfg = load(text)                                     # version 1, 2, 3 or 4
    cfg.runtime("nvidia").runtime_type = "io.containerd.runc.v2"
    cfg.runtime("nvidia").options["BinaryName"] = "/usr/bin/nvidia-container-runtime"
    cfg.sandbox_image = "registry.k8s.io/pause:3.10"
    text = cfg.dump()                                    # same version, comments kept

    apply_sets(text, ["sandbox_image=registry.k8s.io/pause:3.10"], to=3)   # edit + migrate

Each name (docs/settings.md) is ONE key path written in one config version (`Setting.version`,
mostly 2). Where it lives in the other versions is not written down here: it is computed with the
rules the migrator itself uses (`engine.Mapper(rules.chain(a, b))`), including their value
transforms (`bin_dir` -> `bin_dirs`) and copies (a runtime's snapshotter also goes to the image
plugin's `runtime_platforms`). The edit itself is `migrate(text, to=..., sets=...)`: one verified
pass that keeps comments, key order and every untouched byte.

Before anything is written, each value is typed against the schema of the version that holds it
and the edited tree is validated against the schema of the file's version (or of the containerd
release given); a setting the version cannot express is a ConfigError (exit 2).
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass, replace
from difflib import get_close_matches
from functools import cache
from typing import TYPE_CHECKING, Any

from migrator.core import catalog, engine, rules, transforms
from migrator.core.errors import ConfigError
from migrator.core.loading import decode as _decode
from migrator.core.loading import load as _load_file
from migrator.core.loading import parse_toml as _parse_toml
from migrator.core.paths import dotted, node_at
from migrator.core.results import Change, Finding, MigrationResult
from migrator.pipeline import UNSET, migrate, resolve_target, supported_versions

RUNC = "runc"
RUNC_TYPE = catalog.runtime("runc_v2")
NAME, KEY = "<name>", "<key>"
_CRI = ("plugins", catalog.plugin("cri"))
_RUNTIME = _CRI + ("containerd", "runtimes", NAME)


@dataclass(frozen=True)
class Setting:
    """A name and the one path that spells it, in config version `version`."""
    name: str                 # e.g. "runtime.<name>.options.<key>"
    version: int              # the version `path` is written in
    path: tuple[str, ...]     # "<name>" / "<key>" stand for the name's placeholders
    summary: str

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))


SETTINGS: tuple[Setting, ...] = (
    Setting("sandbox_image", 2, _CRI + ("sandbox_image",),
            "pause image of every pod"),
    Setting("default_runtime", 2, _CRI + ("containerd", "default_runtime_name"),
            "runtime (a runtime.<name>) for pods without a RuntimeClass"),
    Setting("runtime.<name>.runtime_type", 2, _RUNTIME + ("runtime_type",),
            f"shim of the runtime, e.g. {RUNC_TYPE}"),
    Setting("runtime.<name>.options.<key>", 2, _RUNTIME + ("options", KEY),
            "an option passed to the shim (runc: BinaryName, SystemdCgroup, Root, ...)"),
    Setting("runtime.<name>.privileged_without_host_devices", 2,
            _RUNTIME + ("privileged_without_host_devices",),
            "privileged containers of this runtime do not get all host devices"),
    Setting("runtime.<name>.pod_annotations", 2, _RUNTIME + ("pod_annotations",),
            "pod annotations passed through to the OCI spec"),
    Setting("runtime.<name>.base_runtime_spec", 2, _RUNTIME + ("base_runtime_spec",),
            "JSON file with the base OCI spec of the runtime's containers"),
    Setting("runtime.<name>.snapshotter", 2, _RUNTIME + ("snapshotter",),
            "snapshotter of the runtime's containers (and, from 2.0 on, of its image pulls)"),
    Setting("cni_bin_dir", 2, _CRI + ("cni", "bin_dir"),
            "directory of the CNI plugin binaries (one)"),
    Setting("cni_bin_dirs", 3, ("plugins", catalog.plugin("cri_runtime"), "cni", "bin_dirs"),
            "directories of the CNI plugin binaries (several only from containerd 2.1 on)"),
    Setting("cni_conf_dir", 2, _CRI + ("cni", "conf_dir"),
            "directory of the CNI network configurations"),
    Setting("registry_config_path", 2, _CRI + ("registry", "config_path"),
            "directory of the registry hosts.toml files (certs.d)"),
    Setting("snapshotter", 2, _CRI + ("containerd", "snapshotter"),
            "snapshotter CRI uses for images and containers"),
    Setting("enable_cdi", 2, _CRI + ("enable_cdi",),
            "Container Device Interface support (containerd 1.7+)"),
    Setting("cdi_spec_dirs", 2, _CRI + ("cdi_spec_dirs",),
            "directories searched for CDI specs (containerd 1.7+)"),
    Setting("enable_unprivileged_ports", 2, _CRI + ("enable_unprivileged_ports",),
            "containers may bind ports below 1024 without privileges"),
    Setting("enable_unprivileged_icmp", 2, _CRI + ("enable_unprivileged_icmp",),
            "containers may open ICMP echo sockets without privileges"),
    Setting("disabled_plugins", 2, ("disabled_plugins",),
            "plugins containerd does not load (entries are translated, see docs/settings.md)"),
    Setting("root", 2, ("root",), "directory for persistent data"),
    Setting("state", 2, ("state",), "directory for runtime state"),
    Setting("grpc_address", 2, ("grpc", "address"),
            "socket of the containerd API (from version 4 on, the ttrpc socket is written "
            "out beside it)"),
)

SHORTHANDS = {
    "systemd_cgroup": "runtime.<default runtime>.options.SystemdCgroup: the systemd cgroup "
                      "driver for the default runtime (default_runtime, else runc)",
}

RUNTIME_FIELDS = ("runtime_type", "privileged_without_host_devices", "pod_annotations",
                  "base_runtime_spec", "snapshotter")


# ---------------------------------------------------------------------------------------------
# names


@dataclass(frozen=True)
class Key:
    """A name with its placeholders filled in: `runtime.nvidia.options.BinaryName`."""
    setting: Setting
    args: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        it = iter(self.args)
        return dotted(tuple(next(it) if s in (NAME, KEY) else s
                            for s in self.setting.segments))

    @property
    def home(self) -> tuple:
        it = iter(self.args)
        return tuple(next(it) if s in (NAME, KEY) else s for s in self.setting.path)

    @property
    def runtime(self) -> str | None:
        return self.args[0] if NAME in self.setting.segments else None


def names() -> list[str]:
    return [s.name for s in SETTINGS] + list(SHORTHANDS)


def _split(name: str) -> tuple:
    from migrator.core.paths import parse_dotted
    try:
        parts = parse_dotted(name.strip())
    except Exception:
        raise ConfigError(f"{name!r} is not a setting name") from None
    if not parts or any(not isinstance(p, str) or p == "" for p in parts):
        raise ConfigError(f"{name!r} is not a setting name")
    return parts


def parse_name(name: str) -> Key | str:
    """The Key of a name, or the shorthand's name itself (resolved against the file later)."""
    parts = _split(name)
    if len(parts) == 1 and parts[0] in SHORTHANDS:
        return parts[0]
    for s in SETTINGS:
        segs = s.segments
        if len(segs) != len(parts):
            continue
        args = []
        for seg, part in zip(segs, parts):
            if seg in (NAME, KEY):
                args.append(part)
            elif seg != part:
                break
        else:
            return Key(s, tuple(args))
    import difflib
    close = difflib.get_close_matches(".".join(parts), names(), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ConfigError(f"unknown setting {name!r}{hint}; known: {', '.join(names())}")


def runtime_key(runtime: str, field: str, option: str | None = None) -> Key:
    name = next(s for s in SETTINGS if s.name == (
        "runtime.<name>.options.<key>" if option is not None else f"runtime.<name>.{field}"))
    return Key(name, (runtime, option) if option is not None else (runtime,))


# ---------------------------------------------------------------------------------------------
# where a name lives in a version: the rules, never a second table


@dataclass(frozen=True)
class Spelling:
    """Where a Key lives in one version (for one release's spelling)."""
    primary: engine.Target               # path None: the version cannot hold it
    copies: tuple[engine.Target, ...] = ()

    @property
    def path(self) -> tuple | None:
        return self.primary.path


def _releases(version: int) -> list[str | None]:
    """The release lines that read `version` natively, its native release first."""
    native = rules.native_release(version)
    lines = [line for line, v in rules.release_lines().items() if v == version]
    out = ([native] if native else []) + [x for x in lines if x != native]
    return out or [None]


def _route(home: int, version: int, release: str | None) -> list:
    if home == version:
        native = rules.native_release(version)
        if release is None or release == native or version == min(supported_versions()):
            return []
        # another release's spelling of the same version: down one step and up again
        return rules.chain(version, version - 1) + rules.chain(version - 1, version, release)
    return rules.chain(home, version, release)


@cache
def _mapper(home: int, version: int, release: str | None) -> engine.Mapper:
    return engine.Mapper(_route(home, version, release), tree={})


def spellings(key: Key, version: int, release: str | None = None) -> list[Spelling]:
    """Every spelling of `key` in `version` (the native release's first; only `release`'s
    when one is given), computed through the rules."""
    out: list[Spelling] = []
    for rel in ([release] if release is not None else _releases(version)):
        targets = _mapper(key.setting.version, version, rel).targets(key.home)
        sp = Spelling(targets[0], tuple(t for t in targets[1:] if t.path is not None
                                        and not t.stays))
        if not any(o.path == sp.path for o in out):
            out.append(sp)
    return out


def path_in(name: str, version: int, release: str | None = None) -> tuple | None:
    """The key path a name has in a config version (None: the version cannot express it)."""
    key = parse_name(name)
    if isinstance(key, str):
        raise ConfigError(f"{key} is a shorthand; its path depends on the file's default runtime")
    return spellings(key, version, release)[0].path


# ---------------------------------------------------------------------------------------------
# values


@cache
def _schema(version: int | str) -> dict:
    from migrator.checks import validate
    return validate.load_schema(version)


def value_schema(key: Key) -> dict | None:
    """The schema of the value (in the name's own version; None: free-form)."""
    node = node_at(_schema(key.setting.version), key.home)
    if node is None and key.setting.version != 2:
        node = node_at(_schema(2), key.home)
    return node


def _kind(node: dict | None) -> str | None:
    if not node:
        return None
    t = node.get("type")
    return t if isinstance(t, str) else None


_TYPE_NAMES = {"string": "a string", "boolean": "a boolean (true or false)",
               "integer": "an integer", "array": "a list"}


def _check_type(key: Key, value: Any) -> Any:
    if value is UNSET:
        return value
    node = value_schema(key)
    kind = _kind(node)
    ok = {"string": lambda v: isinstance(v, str),
          "boolean": lambda v: isinstance(v, bool),
          "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "array": lambda v: isinstance(v, (list, tuple))}.get(kind or "")
    if kind is None:
        if not isinstance(value, (str, bool, int, float, list, tuple)):
            raise ConfigError(f"{key.name}: unsupported value {value!r}")
    elif ok is not None and not ok(value):
        raise ConfigError(f"{key.name} must be {_TYPE_NAMES[kind]}, not {value!r}")
    if isinstance(value, tuple):
        value = list(value)
    if kind == "array" and node is not None:
        item = _kind(node.get("items"))
        for v in value:
            if item == "string" and not isinstance(v, str):
                raise ConfigError(f"{key.name} must be a list of strings, not {value!r}")
    return value


def parse_value(key: Key | str, text: str) -> Any:
    """A command-line value, typed by the schema: booleans, integers, strings, and lists as
    JSON (`["a","b"]`) or comma-separated (`a,b`; empty: `[]`)."""
    if isinstance(key, str):
        key = runtime_key(RUNC, "options", "SystemdCgroup")  # the shorthand's type
    node = value_schema(key)
    kind = _kind(node)
    raw = text.strip()
    if kind == "boolean" or (kind is None and raw.lower() in ("true", "false")):
        if raw.lower() not in ("true", "false"):
            raise ConfigError(f"{key.name} takes true or false, not {text!r}")
        return raw.lower() == "true"
    if kind == "integer" or (kind is None and re.fullmatch(r"[+-]?\d+", raw)):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{key.name} takes an integer, not {text!r}") from None
    if kind == "array" or (kind is None and raw.startswith("[")):
        if raw.startswith("["):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{key.name}: not a JSON list ({exc.msg})") from None
            if not isinstance(value, list):
                raise ConfigError(f"{key.name} takes a list, not {text!r}")
            return value
        return [p.strip() for p in raw.split(",") if p.strip()]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            pass
    return text


def parse_assignment(text: str) -> tuple[str, Any]:
    """`NAME=VALUE` (as given to --set) -> (canonical name, typed value)."""
    if "=" not in text:
        raise ConfigError(f"--set takes NAME=VALUE, not {text!r}")
    name, value = text.split("=", 1)
    key = parse_name(name)
    if isinstance(key, str):
        return key, parse_value(key, value)
    return key.name, _check_type(key, parse_value(key, value))


# ---------------------------------------------------------------------------------------------
# disabled_plugins entries are plugin names: the rules rename them too


def _plugins(version: int) -> frozenset[str]:
    from migrator.checks import losses
    return losses.plugins_read(version)


def _entry_source(entry: str, version: int) -> int:
    """Which version's spelling a disabled_plugins entry is in."""
    if "." not in entry:
        return 1                      # a short plugin ID: version 1's spelling
    if version == 1:
        others = [v for v in supported_versions() if v > 1]
    elif entry in _plugins(version):
        return version
    else:
        others = [v for v in supported_versions() if v > 1 and v != version]
    known = [v for v in others if entry in _plugins(v)]
    if known:
        return min(known, key=lambda v: (abs(v - version), v))
    return 2 if version == 1 else version


def plugin_entries(values: Iterable[str], version: int) -> list[str]:
    """Entries translated into `version`'s spelling by the rules' plugin and entry rules:
    `cri` is io.containerd.grpc.v1.cri in version 2 and the four CRI plugins in version 3."""
    out: list[str] = []
    for entry in values:
        src = _entry_source(entry, version)
        got = [entry] if src == version else \
            engine.Mapper(rules.chain(src, version)).entry(entry)[0]
        out.extend(n for n in got if n not in out)
    return out


# ---------------------------------------------------------------------------------------------
# reading


_MISSING = object()


def _get(tree: Any, path: tuple) -> Any:
    cur = tree
    for k in path:
        if not isinstance(cur, dict) or k not in cur:
            return _MISSING
        cur = cur[k]
    return cur


def _invert(target: engine.Target, value: Any) -> Any:
    for rule in reversed(target.converts):
        assert rule.transform is not None
        name, args = rule.transform
        value = transforms.apply(name, args, value, reverse=not rule.reverse)
    return value


def read(tree: dict, key: Key, version: int, release: str | None = None) -> Any:
    """The value of `key` in a tree of `version` (None: not set), in the name's own shape."""
    for sp in spellings(key, version, release):
        if sp.path is None:
            continue
        value = _get(tree, sp.path)
        if value is _MISSING:
            continue
        try:
            return _invert(sp.primary, value)
        except transforms.Unrepresentable as exc:
            raise ConfigError(f"{key.name}: the file holds {dotted(sp.path)} = {value!r}, "
                              f"which {key.name} cannot show ({exc})") from None
    return None


# ---------------------------------------------------------------------------------------------
# resolving edits into target paths


@dataclass
class Edit:
    """What a set of named edits becomes in one version: paths, values and notes."""
    sets: dict[tuple, Any]
    notes: dict[tuple, str]            # target path -> why it was added beyond the request
    findings: list[Finding]


def _default_runtime(edits: dict, current: dict, version: int, release: str | None) -> str:
    key = parse_name("default_runtime")
    assert isinstance(key, Key)
    value = edits.get(key.name, _MISSING)
    if value is _MISSING:
        value = read(current, key, version, release)
    return value if isinstance(value, str) and value and value is not UNSET else RUNC


def _expand(edits: dict[str, Any], current: dict, version: int,
            release: str | None) -> dict[Key, Any]:
    out: dict[Key, Any] = {}
    origin: dict[Key, str] = {}
    for name, value in edits.items():
        key = parse_name(name)
        if isinstance(key, str):   # systemd_cgroup
            key = runtime_key(_default_runtime(edits, current, version, release), "options",
                              "SystemdCgroup")
        value = _check_type(key, value)
        if key in out and out[key] != value:
            raise ConfigError(f"{name} and {origin[key]} both set {key.name}, differently")
        out[key] = value
        origin[key] = name
    return out


def _cannot(key: Key, version: int, release: str | None, why: str) -> ConfigError:
    what = f"containerd {release}" if release else f"config version {version}"
    return ConfigError(f"{what} cannot express {key.name}: {why}")


def _place(key: Key, value: Any, current: dict, version: int, release: str | None,
           edit: Edit) -> None:
    cands = spellings(key, version, release)
    if all(sp.path is None for sp in cands):
        t = cands[0].primary
        rule = t.rule
        why = t.drop_reason or "the rules drop it"
        if rule is not None and rule.use:
            why += f"; use {rule.use} instead"
        raise _cannot(key, version, release, why)
    present = [sp for sp in cands if sp.path is not None and
               _get(current, sp.path) is not _MISSING]
    if value is UNSET:
        for sp in present:
            edit.sets[sp.path] = UNSET
            for c in sp.copies:
                if _still_copy(c, sp, current):
                    edit.sets[c.path] = UNSET
        return
    if key.setting.name == "disabled_plugins":
        value = plugin_entries(value, version)
    order = present + [sp for sp in cands if sp not in present and sp.path is not None]
    problems = []
    for sp in order:
        try:
            new = engine.convert(sp.primary, value)
        except transforms.Unrepresentable as exc:
            problems.append(f"{dotted(sp.path)}: {exc}")
            continue
        if isinstance(new, transforms.Drop):
            problems.append(f"{dotted(sp.path)}: {new.reason}")
            continue
        break
    else:
        raise _cannot(key, version, release, "; ".join(problems))
    assert sp.path is not None
    unchanged = _get(current, sp.path) == new
    edit.sets[sp.path] = new
    for other in present:
        if other is not sp:
            edit.sets[other.path] = UNSET
            edit.notes[other.path] = (f"another spelling of {key.name}; {dotted(sp.path)} "
                                      "holds it now")
    for c in sp.copies if not unchanged else ():  # a value already there changes nothing
        assert c.path is not None
        try:
            made = engine.convert(c, value)
        except transforms.Unrepresentable:
            continue
        if _get(current, c.path) is not _MISSING and not _still_copy(c, sp, current):
            edit.findings.append(Finding(
                "info", "settings", f"{dotted(c.path)} is set on its own, so it is left as it "
                f"is; the rules would give it {made!r} with {key.name}", dotted(c.path)))
            continue
        if made == "" or isinstance(made, transforms.Drop):
            if _get(current, c.path) is not _MISSING:
                edit.sets[c.path] = UNSET
            continue
        edit.sets[c.path] = made
        edit.notes[c.path] = (f"set with {key.name}: the rules carry it here too "
                              f"({c.rules[-1].id})")


def _still_copy(c: engine.Target, sp: Spelling, current: dict) -> bool:
    """The copy's target holds what the copy makes of the primary's current value."""
    assert sp.path is not None and c.path is not None
    have = _get(current, c.path)
    if have is _MISSING:
        return True
    primary = _get(current, sp.path)
    if primary is _MISSING or sp.primary.converts:
        return False
    try:
        return engine.convert(c, primary) == have
    except transforms.Unrepresentable:
        return False


def _runtime_table(name: str, version: int, release: str | None) -> tuple:
    sp = spellings(runtime_key(name, "runtime_type"), version, release)[0]
    assert sp.path is not None
    return sp.path[:-1]


def _complete_runtimes(keys: dict[Key, Any], current: dict, version: int,
                       release: str | None) -> dict[Key, tuple[Any, str]]:
    """Keys to add so that every runtime the edit creates is complete."""
    extra: dict[Key, tuple[Any, str]] = {}
    new = []
    for key, value in keys.items():
        name = key.runtime
        if name is None or value is UNSET or name in new:
            continue
        if _get(current, _runtime_table(name, version, release)) is _MISSING:
            new.append(name)
    # containerd 1.x replaces its built-in runtimes table with the file's: a file that gets its
    # first runtime loses runc, which the default default_runtime_name names.
    runtimes = _runtime_table(RUNC, version, release)[:-1]
    have = _get(current, runtimes)
    if new and RUNC not in new and version <= 2 and (have is _MISSING or not have):
        extra[runtime_key(RUNC, "runtime_type")] = (
            RUNC_TYPE, "containerd 1.x drops its built-in runc runtime once the file defines "
            "any runtime; it is written out so that runc stays")
    for name in new:
        rt = runtime_key(name, "runtime_type")
        if rt not in keys:
            extra[rt] = (RUNC_TYPE, f"runtime {name} is new and needs a runtime_type; "
                         f"{RUNC_TYPE} (runc) is assumed, set runtime.{name}.runtime_type to "
                         "choose another shim")
    return extra


def _check_default_runtime(keys: dict[Key, Any], sets: dict[tuple, Any], current: dict,
                           version: int, release: str | None) -> None:
    drn = parse_name("default_runtime")
    assert isinstance(drn, Key)
    name = keys.get(drn)
    if not isinstance(name, str) or not name:
        return
    runtimes = _runtime_table(RUNC, version, release)[:-1]
    have = _get(current, runtimes)
    defined = set(have) if isinstance(have, dict) else set()
    defined |= {p[len(runtimes)] for p, v in sets.items()
                if v is not UNSET and len(p) > len(runtimes) and p[:len(runtimes)] == runtimes}
    if name in defined or (name == RUNC and (version >= 3 or not defined)):
        return
    raise ConfigError(f"default_runtime {name!r} names no runtime of this file (it has "
                      f"{', '.join(sorted(defined)) or 'only the built-in runc'}); set "
                      f"runtime.{name}.runtime_type too")


def resolve(edits: dict[str, Any], current: dict, version: int,
            release: str | None = None) -> Edit:
    """Named edits -> key paths of `version` with their values (UNSET removes), checked
    against the schema of `version` (or of `release`)."""
    keys = _expand(edits, current, version, release)
    edit = Edit({}, {}, [])
    for key, (value, why) in _complete_runtimes(keys, current, version, release).items():
        _place(key, value, current, version, release, edit)
        sp = spellings(key, version, release)[0]
        edit.notes[sp.path] = why
    # a runtime's own keys before its options: its table is then written before its subtable
    ordered = sorted(keys.items(), key=lambda kv: kv[0].setting.name.endswith(".options.<key>"))
    for key, value in ordered:
        _place(key, value, current, version, release, edit)
    _check_default_runtime(keys, edit.sets, current, version, release)
    _validate(edit.sets, current, version, release, keys)
    return edit


def _apply(tree: dict, sets: dict[tuple, Any]) -> dict:
    out = copy.deepcopy(tree)
    for path, value in sets.items():
        cur = out
        for i, k in enumerate(path[:-1]):
            nxt = cur.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"cannot set {dotted(path)}: {dotted(path[:i + 1])} is a "
                                  "value, not a table")
            cur = nxt
        if value is UNSET:
            cur.pop(path[-1], None)
        else:
            if isinstance(cur.get(path[-1]), dict):
                raise ConfigError(f"cannot set {dotted(path)}: it is a table in this file")
            cur[path[-1]] = copy.deepcopy(value)
    return out


def _validate(sets: dict[tuple, Any], current: dict, version: int, release: str | None,
              keys: dict[Key, Any]) -> None:
    from migrator.checks import validate
    after = _apply(current, sets)
    before = current
    schema: int | str = release or version
    if version == 1 and release is not None:
        # a release schema is spelled in version 2: judge both trees there
        chain = rules.chain(1, 2)
        before = engine.plan(before, chain).expected
        after = engine.plan(after, chain).expected
    old = {(p.path, p.message) for p in validate.validate(before, schema)}
    new = [p for p in validate.validate(after, schema) if (p.path, p.message) not in old]
    if not new:
        return
    by_path = {}
    for key in keys:
        for sp in spellings(key, version, release):
            if sp.path is not None:
                by_path[sp.path] = key.name
    msgs = []
    for p in new:
        name = next((n for path, n in by_path.items()
                     if path[:len(p.path)] == p.path or p.path[:len(path)] == path), None)
        msgs.append(f"{name}: {p.message}" if name else p.message)
    what = f"containerd {release}" if release else f"config version {version}"
    raise ConfigError(f"{what} cannot take this edit: " + "; ".join(msgs))


# ---------------------------------------------------------------------------------------------
# editing text


@dataclass
class _Source:
    """The text to edit; a versionless file read as another version gets a header for the
    duration of the edit."""
    text: str
    version_line: str | None        # the header inserted (removed again from the output)
    bom: str
    drop_in: bool = False           # a file without a version line, read as `version`


def _prepare(text: str | bytes, version: int | None, file: str) -> _Source:
    s, had_bom = _decode(text, file)
    bom = "\ufeff" if had_bom else ""
    if version is None:
        return _Source(bom + s, None, "")
    tree = _parse_toml(s, file)
    if "version" in tree:
        return _Source(bom + s, None, "")   # the file says which version it is
    if version == 1:
        return _Source(bom + s, None, "", True)
    if version not in supported_versions():
        raise ConfigError(f"unsupported config version {version}", file=file)
    nl = "\r\n" if "\r\n" in s.split("\n", 1)[0] + "\n" else "\n"
    line = f"version = {version}{nl}"
    return _Source(bom + line + s, line, bom, True)


def _finish(src: _Source, result: MigrationResult, original: str | bytes) -> MigrationResult:
    if src.version_line is None:
        return result
    text = result.text
    m = re.match(r"version = \d+\r?\n", text)
    if m is None:  # pragma: no cover - the emitter edits an existing header in place
        raise RuntimeError("the version header of a versionless drop-in went missing")
    result.text = text[m.end():]
    result.input_text = original.decode("utf-8", "replace") if isinstance(original, bytes) \
        else original
    if src.bom and result.text.startswith(src.bom):
        result.text = result.text[len(src.bom):]
    result.changes = [replace(c, from_line=c.from_line - 1 if c.from_line else c.from_line)
                      for c in result.changes if c.kind != "header"]
    result.findings = [replace(f, line=f.line - 1 if f.line else f.line)
                       for f in result.findings if f.path != "version"]
    return result


def _current(loaded: Any, to: int, release: str | None) -> dict:
    if loaded.version == to:
        return loaded.tree
    return engine.plan(loaded.tree, rules.chain(loaded.version, to, release)).expected


def edit_text(text: str | bytes, edits: dict[str, Any], *, to: int | None = None,
              containerd: str | None = None, file: str = "<string>",
              version: int | None = None, allow_loss: bool = False) -> MigrationResult:
    """Apply named edits (values typed; UNSET removes) and migrate to `to` (or to what the
    containerd release line reads) in one verified pass.

    Without `to` and `containerd` the file keeps its version. `version` says which version a
    file without a `version` key (a drop-in) is read as; it stays without one."""
    return _edit(text, edits, to=to, containerd=containerd, file=file, version=version,
                 allow_loss=allow_loss)


def _edit(text: str | bytes, edits: dict[str, Any], *, to: int | None, containerd: str | None,
          file: str, version: int | None, judge: str | None = None,
          allow_loss: bool = False) -> MigrationResult:
    """`judge`: a release whose schema checks the edits without changing the target."""
    try:
        src = _prepare(text, version, file)
        loaded = _load_file(src.text, file, supported_versions())
        if to is None and containerd is None:
            target, chain_release, release = loaded.version, None, judge
        else:
            target, chain_release = resolve_target(to, containerd)
            release = containerd
        current = _current(loaded, target, chain_release)
        edit = resolve(edits, current, target, release)
    except ConfigError as exc:
        raise exc.with_file(file) from None
    result = migrate(src.text, to=target if containerd is None else to, containerd=containerd,
                     allow_loss=allow_loss, file=file, sets=edit.sets)
    result.changes = [_explain(c, edit) for c in result.changes]
    result.findings.extend(edit.findings)
    if src.drop_in and target <= 2:
        result.findings.extend(_replaced_tables(edit, current))
    return _finish(src, result, text)


def _replaced_tables(edit: Edit, current: dict) -> list[Finding]:
    """containerd 1.x merges an imported file plugin by plugin: a drop-in's plugin table
    replaces the root config's table of that plugin as a whole."""
    have = current.get("plugins") if isinstance(current.get("plugins"), dict) else {}
    new = sorted({p[:2] for p, v in edit.sets.items()
                  if v is not UNSET and len(p) > 2 and p[0] == "plugins" and p[1] not in have})
    return [Finding("warning", "settings", f"containerd 1.x replaces the root config's whole "
                    f"{dotted(t)} table with a drop-in's: the settings the root file has there "
                    "are lost unless this file repeats them", dotted(t)) for t in new]


def _explain(change: Change, edit: Edit) -> Change:
    if change.kind not in ("added", "set", "dropped") or not edit.notes:
        return change
    from migrator.core.paths import parse_dotted
    path = change.to_path or change.from_path
    if not path:
        return change
    why = edit.notes.get(parse_dotted(path))
    return replace(change, reason=why) if why else change


def apply_sets(text: str | bytes, assignments: Iterable[str | tuple[str, Any]], *,
               to: int | None = None, containerd: str | None = None,
               file: str = "<string>", version: int | None = None,
               allow_loss: bool = False) -> MigrationResult:
    """The `--set NAME=VALUE` entry point: parse every assignment, then edit (and migrate to
    `to` / what `containerd` reads) in one verified pass. Without `to` and `containerd` the
    file keeps its version; `version` is what a file without a version line is read as.
    Raises ConfigError (exit 2) for a bad or inexpressible edit, LossError (exit 3) only when
    the migration itself loses a setting."""
    edits: dict[str, Any] = {}
    try:
        for a in assignments:
            name, value = parse_assignment(a) if isinstance(a, str) else a
            key = parse_name(name)
            canon = key if isinstance(key, str) else key.name
            if canon in edits and edits[canon] != value:
                raise ConfigError(f"{canon} is set twice, to {edits[canon]!r} and {value!r}")
            edits[canon] = value
    except ConfigError as exc:
        raise exc.with_file(file) from None
    return edit_text(text, edits, to=to, containerd=containerd, file=file, version=version,
                     allow_loss=allow_loss)


# ---------------------------------------------------------------------------------------------
# the Python API


class Options(MutableMapping):
    """`cfg.runtime("nvidia").options`: the runtime's shim options, by key."""

    def __init__(self, cfg: "Config", runtime: str) -> None:
        self._cfg = cfg
        self._runtime = runtime

    def _key(self, option: str) -> Key:
        return runtime_key(self._runtime, "options", option)

    def __getitem__(self, option: str) -> Any:
        value = self._cfg._read(self._key(option))
        if value is None:
            raise KeyError(option)
        return value

    def __setitem__(self, option: str, value: Any) -> None:
        self._cfg.set(self._key(option).name, value)

    def __delitem__(self, option: str) -> None:
        if option not in self:
            raise KeyError(option)
        self._cfg.unset(self._key(option).name)

    def _names(self) -> list[str]:
        sp = spellings(runtime_key(self._runtime, "options", "x"), self._cfg.version,
                       self._cfg.release)[0]
        table = _get(self._cfg.tree, sp.path[:-1]) if sp.path else _MISSING
        out = list(table) if isinstance(table, dict) else []
        for name in self._cfg.edits:
            key = parse_name(name)
            if isinstance(key, Key) and key.setting.name.endswith(".options.<key>") and \
                    key.args[0] == self._runtime and key.args[1] not in out:
                out.append(key.args[1])
        return out

    def __iter__(self) -> Iterator[str]:
        return iter([k for k in self._names() if self._cfg._read(self._key(k)) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"Options({dict(self)!r})"


class Runtime:
    """`cfg.runtime(name)`: one runtime's settings (runtime_type, options, ...)."""

    def __init__(self, cfg: "Config", name: str) -> None:
        object.__setattr__(self, "_cfg", cfg)
        object.__setattr__(self, "name", name)

    @property
    def options(self) -> Options:
        return Options(self._cfg, self.name)

    def __getattr__(self, field: str) -> Any:
        if field in RUNTIME_FIELDS:
            return self._cfg._read(runtime_key(self.name, field))
        raise _no_such("a runtime", field, RUNTIME_FIELDS + ("options", "name"))

    def __setattr__(self, field: str, value: Any) -> None:
        if field not in RUNTIME_FIELDS:
            raise _no_such("a runtime", field, RUNTIME_FIELDS + ("options",))
        self._cfg.set(runtime_key(self.name, field).name, value)

    def __delattr__(self, field: str) -> None:
        if field not in RUNTIME_FIELDS:
            raise _no_such("a runtime", field, RUNTIME_FIELDS + ("options",))
        self._cfg.unset(runtime_key(self.name, field).name)

    def __repr__(self) -> str:
        return f"Runtime({self.name!r})"


def _no_such(owner: str, name: str, known: Iterable[str]) -> AttributeError:
    """A typo must not become a silently ignored attribute: say which names exist."""
    near = get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {near[0]!r}?" if near else " (docs/settings.md lists the names)"
    return AttributeError(f"{owner} has no setting {name!r}{hint}")


class Config:
    """A config of any version, edited by version-independent names; see `migrator.load`.

    Each name of docs/settings.md without a placeholder is an attribute (`cfg.sandbox_image`,
    `cfg.systemd_cgroup`, ...): reading gives the edited value, else the file's (None: not
    set); assigning records an edit, checked at once; `del` removes the setting. Runtimes are
    `cfg.runtime(name)`. Any other attribute name raises AttributeError with a did-you-mean.
    `dump()` returns the edited text in the file's own version; `result` is then its report.
    """

    if TYPE_CHECKING:  # the setting properties are made from SETTINGS below; declared for mypy
        sandbox_image: str | None
        default_runtime: str | None
        cni_bin_dir: str | None
        cni_bin_dirs: list[str] | None
        cni_conf_dir: str | None
        registry_config_path: str | None
        snapshotter: str | None
        enable_cdi: bool | None
        cdi_spec_dirs: list[str] | None
        enable_unprivileged_ports: bool | None
        enable_unprivileged_icmp: bool | None
        disabled_plugins: list[str] | None
        root: str | None
        state: str | None
        grpc_address: str | None
        systemd_cgroup: bool | None

    text: str | bytes
    file: str
    version: int
    release: str | None
    edits: dict[str, Any]
    result: MigrationResult | None

    def __init__(self, text: str | bytes, *, version: int | None = None,
                 containerd: str | None = None, file: str = "<string>") -> None:
        self.text = text
        self.file = file
        self._treat_as = version
        try:
            src = _prepare(text, version, file)
            self._loaded = _load_file(src.text, file, supported_versions())
            if containerd is not None and containerd not in rules.release_lines():
                raise ConfigError(f"unknown containerd release line {containerd!r} (known: "
                                  f"{', '.join(rules.release_lines())})")
        except ConfigError as exc:
            raise exc.with_file(file) from None
        self.version: int = self._loaded.version
        self.release: str | None = containerd
        self.edits: dict[str, Any] = {}
        self.result: MigrationResult | None = None

    @property
    def tree(self) -> dict:
        """The file as parsed (before the edits)."""
        return self._loaded.tree

    def _read(self, key: Key) -> Any:
        if key.name in self.edits:
            value = self.edits[key.name]
            return None if value is UNSET else value
        if key.setting.name == "runtime.<name>.options.<key>" and key.args[1] == \
                "SystemdCgroup" and "systemd_cgroup" in self.edits and \
                key.args[0] == self._default():
            value = self.edits["systemd_cgroup"]
            return None if value is UNSET else value
        return read(self.tree, key, self.version, self.release)

    def _default(self) -> str:
        return _default_runtime(self.edits, self.tree, self.version, self.release)

    def get(self, name: str) -> Any:
        """The value of a setting: the edited one, else the file's (None: not set)."""
        key = parse_name(name)
        if isinstance(key, str):
            if key in self.edits:
                return None if self.edits[key] is UNSET else self.edits[key]
            key = runtime_key(self._default(), "options", "SystemdCgroup")
        return self._read(key)

    def set(self, name: str, value: Any) -> None:
        """Record an edit; its type and whether this version can hold it are checked now,
        the edit as a whole (runtimes, schema) by dump()."""
        key = parse_name(name)
        try:
            if isinstance(key, Key):
                value = _check_type(key, value)
                if value is not UNSET:
                    _place(key, value, self.tree, self.version, self.release, Edit({}, {}, []))
                name = key.name
            else:
                value = _check_type(runtime_key(RUNC, "options", "SystemdCgroup"), value)
        except ConfigError as exc:
            raise exc.with_file(self.file) from None
        self.edits[name] = value

    def unset(self, name: str) -> None:
        key = parse_name(name)
        self.edits[key if isinstance(key, str) else key.name] = UNSET

    def runtime(self, name: str) -> Runtime:
        return Runtime(self, name)

    def runtimes(self) -> list[str]:
        """Names of the runtimes the file (with the edits) defines."""
        table = _runtime_table(RUNC, self.version, self.release)[:-1]
        have = _get(self.tree, table)
        out = list(have) if isinstance(have, dict) else []
        for name, value in self.edits.items():
            key = parse_name(name)
            if isinstance(key, Key) and key.runtime and value is not UNSET and \
                    key.runtime not in out:
                out.append(key.runtime)
        return out

    def dump(self) -> str:
        """The file with the edits, in its own version; comments and untouched lines kept.
        The full report is in `self.result`."""
        self.result = _edit(self.text, self.edits, to=None, containerd=None, file=self.file,
                            version=self._treat_as, judge=self.release)
        return self.result.text

    def __repr__(self) -> str:
        return f"<containerd config version {self.version}, {len(self.edits)} edit(s)>"

    if not TYPE_CHECKING:  # hidden from mypy, so that it still reports a misspelt name
        def __setattr__(self, name: str, value: Any) -> None:
            if not name.startswith("_") and name not in Config.__annotations__ and \
                    not isinstance(getattr(Config, name, None), property):
                raise _no_such("a containerd config", name, _public(Config))
            object.__setattr__(self, name, value)

        def __getattr__(self, name: str) -> Any:  # only for names that do not exist
            if name.startswith("_"):
                raise AttributeError(name)
            raise _no_such("a containerd config", name, _public(Config))


def _public(cls: type) -> list[str]:
    return [n for n in dir(cls) if not n.startswith("_")] + list(cls.__annotations__)


def _scalar_property(name: str) -> property:
    def fget(self: Config) -> Any:
        return self.get(name)

    def fset(self: Config, value: Any) -> None:
        self.set(name, value)

    def fdel(self: Config) -> None:
        self.unset(name)

    return property(fget, fset, fdel, doc=next(
        (s.summary for s in SETTINGS if s.name == name), SHORTHANDS.get(name)))


for _s in [s.name for s in SETTINGS if "<" not in s.name] + list(SHORTHANDS):
    setattr(Config, _s, _scalar_property(_s))
del _s


def load(text: str | bytes, *, version: int | None = None, containerd: str | None = None,
         file: str = "<string>") -> Config:
    """A config of any version to edit by name. `version`: what a file without a `version`
    key (a drop-in) is read as; `containerd`: the release whose schema judges the edits."""
    return Config(text, version=version, containerd=containerd, file=file)


__all__ = ["load", "Config", "Runtime", "Options", "apply_sets", "edit_text",
           "parse_assignment", "parse_name", "parse_value", "path_in", "spellings", "read",
           "resolve", "plugin_entries", "SETTINGS", "SHORTHANDS", "names", "UNSET"]
