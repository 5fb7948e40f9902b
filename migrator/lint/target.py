"""The containerd release a lint run checks a file for (`--containerd`, or the line that
reads the file's version natively), and what the catalog knows of it."""
from __future__ import annotations

from dataclasses import dataclass

from migrator.core import catalog
from migrator.core import rules as rules_mod

release_key = catalog.release_key


@dataclass(frozen=True)
class Target:
    """The containerd release the file is checked for: a line (2.1) and maybe a patch."""
    line: str
    patch: int | None = None
    explicit: bool = False
    pre: str | None = None          # a pre-release of the patch ("beta.0")

    @property
    def label(self) -> str:
        if self.patch is None:
            return self.line
        return f"{self.line}.{self.patch}" + (f"-{self.pre}" if self.pre else "")

    @property
    def reads(self) -> int:
        """The config version this release reads natively (its maximum)."""
        return rules_mod.release_lines()[self.line]

    def at_least(self, line: str) -> bool:
        return release_key(self.line) >= release_key(line)

    def before(self, line: str) -> bool:
        return release_key(self.line) < release_key(line)

    def has(self, feature: str) -> bool:
        """Whether the target has a behaviour of the catalog (containerd.toml [features])."""
        return self.at_least(catalog.since(feature))

    def is_1x(self) -> bool:
        return catalog.line(self.line).major == 1

    def affected(self, advisory: str) -> bool | None:
        """Whether the target meets a known bug of the catalog: True certainly, None when only
        some patches of the line do (the target names the line only), False not."""
        return catalog.affected(advisory, self.line,
                                self.label if self.patch is not None else None)

    def patches(self, line: str, first: int, last: int | None) -> bool | None:
        """Whether the target is one of line.first .. line.last (last None: open-ended).

        True: certainly; None: the target names the line only, and some of its patches are
        affected; False: certainly not."""
        if self.line != line:
            return False
        if self.patch is None:
            return None
        return first <= self.patch and (last is None or self.patch <= last)


def native_line(version: int | None) -> str:
    """The release line a file of this config version is checked for without --containerd."""
    lines = rules_mod.release_lines()
    if version in (None, 0, 1):
        version = 2
    best = [line for line, v in lines.items() if v == version]
    if not best:
        return list(lines)[-1]
    native = rules_mod.native_release(version)
    return native if native in best else best[-1]


def parse_target(containerd: str | None, version: int | None) -> Target:
    from migrator.core.errors import ConfigError
    if containerd is None:
        return Target(native_line(version))
    try:
        line, patch = catalog.parse_release(containerd)
    except ValueError:
        lines = rules_mod.release_lines()
        raise ConfigError(f"unknown containerd release {containerd!r} (known lines: "
                          f"{', '.join(lines)}; a patch such as 2.2.1 may be given)") from None
    if patch is None:
        return Target(line, explicit=True)
    number, _, pre = patch.split(".", 2)[2].partition("-")
    return Target(line, int(number), explicit=True, pre=pre or None)
