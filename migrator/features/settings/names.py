"""Setting names: each one key path in one config version; where it is in the others is computed
with the migration rules."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from migrator.core import catalog, engine, rules
from migrator.core.errors import ConfigError
from migrator.core.paths import dotted
from migrator.pipeline import supported_versions

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
