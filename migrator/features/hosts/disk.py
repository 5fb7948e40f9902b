"""hosts.toml files on disk: their state, checked before the first write, written atomically and
never through a link."""
from __future__ import annotations

import os
import re
from pathlib import Path

from migrator.core.errors import ConfigError
from migrator.core.results import Finding
from migrator.features.hosts.names import DEFAULT_DIR, HOSTS_FILE, _show, check_host
from migrator.features.hosts.plan import RegistryPlan


def _conflicts(files: dict[Path, str], overwrite: bool, file: str) -> dict[Path, str]:
    """Each file's state on disk (absent, same, different), or ConfigError for the first one
    that may not be written."""
    states = {}
    for path, content in files.items():
        state = states[path] = _state(path, content)
        if state == "different" and not overwrite:
            raise ConfigError(f"{path} exists with other content; not overwritten "
                              "(--overwrite-hosts replaces it); nothing written", file=file)
        if state not in ("absent", "same", "different"):
            raise ConfigError(f"{path}: {state}; nothing written", file=file)
    return states


def _state(path: Path, content: str) -> str:
    """absent | same | different, or why the path cannot be written."""
    root = path.parent.parent
    if os.path.lexists(path.parent):
        if os.path.islink(path.parent) or not os.path.isdir(path.parent):
            return "its directory is a symbolic link or not a directory"
        if os.path.realpath(path.parent) != os.path.join(os.path.realpath(root),
                                                          path.parent.name):
            return "its directory resolves outside the hosts directory"
    if not os.path.lexists(path):
        return "absent"
    if os.path.islink(path) or not path.is_file():
        return "is a symbolic link or not a regular file"
    try:
        return "same" if path.read_bytes() == content.encode("utf-8") else "different"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"


def _shadowing(root: Path, plan: RegistryPlan, file: str) -> list[Finding]:
    """Host directories already in DIR start to count once config_path points there."""
    if plan.config_path_value not in (None, "") or not root.is_dir():
        return []
    ours = {hf.directory for hf in plan.files}
    try:
        others = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in ours)
    except OSError:
        return []
    if not others:
        return []
    shown = ", ".join(_show(n) for n in others[:10]) + (" ..." if len(others) > 10 else "")
    return [Finding("warning", "hosts-existing", f"{root} already holds host directories "
                    f"({shown}); containerd starts using them once config_path points there",
                    None)]



def write_hosts(files: dict[Path, str], overwrite: bool = False, *,
                hosts_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write the files `migrate_registry` planned, each atomically (temporary file in the same
    directory, fsync, rename); directories are created. A file with the same content is left
    alone; one with other content stops everything (ConfigError) unless `overwrite`; a
    symbolic link or a host directory resolving elsewhere is never written through. All files
    are checked before the first one is written; with `hosts_dir`, every file must be
    `hosts_dir/<host>/hosts.toml`. Returns the paths written."""
    from migrator.emit.write import write_many

    root = Path(os.path.normpath(os.fspath(hosts_dir))) if hosts_dir is not None else None
    for path in files:
        path = Path(path)
        if path.name != HOSTS_FILE or path.parent.name in ("", ".", "..") or \
                os.path.normpath(path) != os.fspath(path) or not path.is_absolute() or \
                (root is not None and path.parent.parent != root):
            raise ConfigError(f"{_show(os.fspath(path))} is not <hosts dir>/<host>/{HOSTS_FILE};"
                              " nothing written")
        check_host("*" if path.parent.name == DEFAULT_DIR else _host_of(path.parent.name),
                   what="host directory")
    states = _conflicts({Path(p): c for p, c in files.items()}, overwrite, "<hosts>")
    todo: dict[str, bytes] = {}
    for path, content in files.items():
        path = Path(path)
        if states[path] == "same":
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        state = _state(path, content)  # again: the directory may have just been made
        if state not in ("absent", "same", "different"):
            raise ConfigError(f"{path}: {state}; not written")
        todo[os.fspath(path)] = content.encode("utf-8")
    write_many(todo)
    return [Path(p) for p in todo]


def _host_of(directory: str) -> str:
    """Invert host_directory: `name_port_` -> `name:port`."""
    m = re.fullmatch(r"(.+)_([0-9]{1,5})_", directory)
    return f"{m[1]}:{m[2]}" if m else directory
