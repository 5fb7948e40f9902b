"""Config, Runtime and Options: the typed editing API behind `migrator.load`."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

from migrator.core import rules
from migrator.core.errors import ConfigError
from migrator.core.loading import load as _load_file
from migrator.core.results import MigrationResult
from migrator.features.settings.edits import _edit, _prepare
from migrator.features.settings.names import (
    RUNC,
    RUNTIME_FIELDS,
    SETTINGS,
    SHORTHANDS,
    Key,
    parse_name,
    runtime_key,
    spellings,
)
from migrator.features.settings.resolve import (
    Edit,
    _default_runtime,
    _place,
    _runtime_table,
)
from migrator.features.settings.values import _MISSING, _check_type, _get, read
from migrator.pipeline import UNSET, supported_versions

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
