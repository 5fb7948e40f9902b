"""What a run migrates to: the config versions the rules connect, and `--to`/`--containerd`
checked in one place."""
from __future__ import annotations

from migrator.core import catalog, rules
from migrator.core.errors import ConfigError


def supported_versions() -> tuple[int, ...]:
    """The config versions the rules connect, oldest first: (1, 2, 3, 4)."""
    return rules.known_versions()


def resolve_target(to: int | None, containerd: str | None) -> tuple[int, str | None]:
    """`--to` and `--containerd` agree, or it is a usage error (exit 2)."""
    known = supported_versions()
    lines = rules.release_lines()
    if containerd is not None:
        try:  # a line, or one of its patches ("2.4.1"): the line's spellings
            containerd = catalog.parse_release(containerd)[0]
        except ValueError:
            raise ConfigError(f"unknown containerd release line {containerd!r} (known: "
                              f"{', '.join(lines)})") from None
        if to is not None and to != lines[containerd]:
            raise ConfigError(f"containerd {containerd} reads config version "
                              f"{lines[containerd]}, not {to}")
        return lines[containerd], containerd
    if to is None:
        raise ConfigError("say which version to migrate to (--to N or --containerd X.Y)")
    if to not in known:
        raise ConfigError(f"unsupported target version {to} (this tool knows "
                          f"{', '.join(map(str, known))})")
    return to, rules.native_release(to)


UNSET = object()  # as a value in `sets`: remove the key
