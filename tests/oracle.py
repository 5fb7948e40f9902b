"""The oracle: ask a real containerd binary how it reads a config file.

Binaries come from ``scripts/fetch-containerd.sh``, which puts upstream builds in
``$CACHE/bin/containerd-<version>`` and Debian builds in ``$CACHE/bin/containerd-debian-<version>``
(``CACHE`` = ``$CONTAINERD_MIGRATE_CACHE`` or ``~/.cache/containerd-migrate``).

    from tests import oracle
    before = oracle.dump(old, v2_text)              # a release line (catalog.lines()) reads
    after = oracle.dump(new, v3_text)               # the original, another the migration
    oracle.compare(before.config, after.config, allowed=[("plugins", "x")])  # [] when equal
    oracle.new_warnings(before, after)              # [] when nothing new is logged

``dump`` runs ``containerd -c FILE config dump``: the effective configuration as that release
reads the file (defaults merged, imports followed, in-memory migrations applied), without a
daemon, root or network. See DEVELOPERS.md, "The oracle: containerd binaries", and the facts
file §9 for what a dump can and cannot show.

Only the standard library and deepdiff are used; tests use :func:`require_containerd`, which
imports pytest when called.
"""
from __future__ import annotations

import copy
import os
import re
import subprocess
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepdiff import DeepDiff

__all__ = [
    "LINES", "Dump", "available", "debian", "binary", "cache_dir", "require_containerd", "dump",
    "normalize", "compare", "new_warnings",
]

from migrator.core import catalog  # noqa: E402

#: Release lines the upstream binaries cover (``scripts/fetch-containerd.sh`` unpacks one per line).
LINES = tuple(name for name, entry in catalog.lines().items() if entry.binary)

#: Seconds one ``config dump`` may take before it is killed (it normally takes ~50 ms).
TIMEOUT = 60.0

_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)(?:-[a-z]+\.\d+)?")  # also 2.4.0-beta.0


from migrator.core.secrets import SECRET_KEYS  # noqa: E402


def cache_dir() -> Path:
    """The cache ``scripts/fetch-containerd.sh`` fills (``$CONTAINERD_MIGRATE_CACHE`` honoured)."""
    env = os.environ.get("CONTAINERD_MIGRATE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "containerd-migrate"


def _scan(prefix: str) -> dict[str, Path]:
    """``{line: path}`` for executables ``bin/<prefix><x.y.z>``, the newest patch per line."""
    found: dict[str, tuple[tuple[int, ...], Path]] = {}
    bindir = cache_dir() / "bin"
    if not bindir.is_dir():
        return {}
    for path in bindir.iterdir():
        if not path.name.startswith(prefix):
            continue
        m = _VERSION.fullmatch(path.name[len(prefix):])
        if m is None or not os.access(path, os.X_OK):
            continue
        version = catalog.release_key(m[0])
        line = f"{m[1]}.{m[2]}"
        if line not in found or version > found[line][0]:
            found[line] = (version, path)
    return {line: found[line][1] for line in sorted(found, key=catalog.release_key)}


def available() -> dict[str, Path]:
    """Upstream binaries in the cache by release line, e.g. ``{1.6: .../containerd-1.6.39, ...}``."""
    return _scan("containerd-")


def debian() -> dict[str, Path]:
    """Debian builds in the cache by release line, e.g. ``{1.7: .../containerd-debian-1.7.24}``."""
    return _scan("containerd-debian-")


def binary(line: str) -> Path | None:
    """The upstream binary for a release line (2.1); ``"debian-2.1"`` for the Debian build."""
    if line.startswith("debian-"):
        return debian().get(line.removeprefix("debian-"))
    return available().get(line)


def require_containerd(line: str) -> Path:
    """For tests: the binary for ``line``, or skip the test with the reason and the cure.

    With ``CONTAINERD_MIGRATE_REQUIRE_ORACLE=1`` (CI sets it) a missing upstream binary fails the
    test instead. Debian builds (``"debian-1.7"``) are best-effort and always skip when absent.
    """
    path = binary(line)
    if path is not None:
        return path
    import pytest

    what = f"Debian containerd {line.removeprefix('debian-')}" if line.startswith("debian-") \
        else f"containerd {line}"
    reason = f"{what} binary not found in {cache_dir() / 'bin'}; run scripts/fetch-containerd.sh"
    if os.environ.get("CONTAINERD_MIGRATE_REQUIRE_ORACLE") == "1" and not line.startswith("debian-"):
        pytest.fail(reason + " (CONTAINERD_MIGRATE_REQUIRE_ORACLE=1)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class Dump:
    """What one ``containerd config dump`` said.

    ``warnings`` and ``errors`` are the ``msg`` of containerd's log lines (level ``warning``;
    ``error``/``fatal``), followed by their ``key=`` and ``plugin=`` fields, and for errors the
    ``error=`` field; the final ``containerd: ...`` line of a failed run is an error too.
    Timestamps and file/row/column fields are left out; the scratch directory is shown as ``.``,
    so messages of two dumps compare as text.
    """

    config: dict[str, Any]
    warnings: list[str]
    errors: list[str]
    returncode: int
    stderr: str
    stdout: str = ""
    binary: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0


_LOGFMT = re.compile(r'(\w[\w.-]*)=("(?:[^"\\]|\\.)*"|\S*)')


def _logfmt(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in _LOGFMT.findall(line):
        if value.startswith('"'):
            value = re.sub(r'\\(.)', r'\1', value[1:-1])
        out[key] = value
    return out


def _parse_stderr(stderr: str, scratch: str) -> tuple[list[str], list[str]]:
    warnings: list[str] = []
    errors: list[str] = []
    for raw in stderr.splitlines():
        line = raw.replace(scratch + os.sep, "").replace(scratch, ".")
        if line.startswith("time=") or line.startswith("level="):
            fields = _logfmt(line)
            level = fields.get("level", "")
            keys: tuple[str, ...]
            if level in ("warning", "warn"):
                sink, keys = warnings, ("key", "plugin")
            elif level in ("error", "fatal", "panic"):
                sink, keys = errors, ("key", "plugin", "error")
            else:
                continue
            text = fields.get("msg", "")
            extras = [f"{k}={fields[k]}" for k in keys if k in fields]
            sink.append(" ".join([text, *extras]) if extras else text)
        elif line.startswith("containerd: "):
            errors.append(line)
    return warnings, errors


def _env(scratch: str) -> dict[str, str]:
    """A plain environment: no proxies, locale, XDG or containerd variables from the caller."""
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": scratch,
        "TMPDIR": scratch,
        "LANG": "C",
        "LC_ALL": "C",
        "TZ": "UTC",
    }


def _resolve(line_or_path: str | os.PathLike[str]) -> Path:
    if isinstance(line_or_path, os.PathLike) or os.sep in str(line_or_path):
        path = Path(line_or_path)
        if not path.exists():
            raise FileNotFoundError(f"containerd binary {path} does not exist")
        return path
    found = binary(str(line_or_path))
    if found is None:
        raise FileNotFoundError(
            f"containerd {line_or_path} binary not found in {cache_dir() / 'bin'}; "
            "run scripts/fetch-containerd.sh")
    return found


def dump(line_or_path: str | os.PathLike[str], text: str | bytes, *,
         files: Mapping[str, str | bytes] | None = None, timeout: float = TIMEOUT) -> Dump:
    """Run ``<containerd> -c <dir>/config.toml config dump`` on ``text`` in a scratch directory.

    ``line_or_path`` is a release line (2.1, ``"debian-1.7"``) or a binary path. ``files``
    adds more files (for ``imports``), their names relative to the directory of config.toml,
    which is also the working directory. A failed run (non-zero exit, or the timeout) is
    returned, not raised: check ``returncode``.
    """
    exe = _resolve(line_or_path)
    with tempfile.TemporaryDirectory(prefix="containerd-oracle-") as tmp:
        scratch = os.path.realpath(tmp)
        root = Path(scratch)
        for name, content in {"config.toml": text, **(files or {})}.items():
            target = (root / name).resolve()
            if root not in target.parents:
                raise ValueError(f"file name {name!r} leaves the scratch directory")
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        cmd = [str(exe), "-c", str(root / "config.toml"), "config", "dump"]
        try:
            proc = subprocess.run(cmd, cwd=scratch, env=_env(scratch), stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=timeout, check=False)
            returncode, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            returncode, out = -9, exc.stdout or b""
            err = (exc.stderr or b"") + f"\ncontainerd: timed out after {timeout} s\n".encode()
        stdout = out.decode("utf-8", "replace")
        stderr = err.decode("utf-8", "replace")
        warnings, errors = _parse_stderr(stderr, scratch)
    config: dict[str, Any] = {}
    if returncode == 0:
        try:
            config = tomllib.loads(stdout)
        except tomllib.TOMLDecodeError as exc:
            errors.append(f"oracle: config dump output is not TOML: {exc}")
            returncode = returncode or 1
    return Dump(config=config, warnings=warnings, errors=errors, returncode=returncode,
                stderr=stderr, stdout=stdout, binary=exe)


#: Server plugins whose ``uid``/``gid`` default to the user running containerd (2.3+, facts E33).
_OWNED_SOCKETS = (catalog.plugin("server_grpc"), catalog.plugin("server_ttrpc"))


def normalize(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a parsed dump without what differs for reasons unrelated to the input (§9.2):

    * ``version``: each release prints its own (1.x: 2, 2.0–2.2: 3, 2.3+: 4);
    * ``imports``: 1.x lists the files it loaded, 2.2+ prepend ``/etc/containerd/conf.d/*.toml``;
    * 2.3+: ``uid``/``gid`` of the grpc and ttrpc server plugins when they equal the effective
      uid/gid of this process (their default is the user running the dump). A value the file
      sets to this very uid/gid is dropped too; nothing distinguishes it from the default.

    Everything else (release defaults, plugin sets, Debian patches) is a real difference between
    two binaries: compare dumps of one release, or list such paths in ``compare(allowed=...)``.
    """
    out = copy.deepcopy(dict(config))
    out.pop("version", None)
    out.pop("imports", None)
    plugins = out.get("plugins")
    if isinstance(plugins, dict):
        ids = {"uid": os.geteuid(), "gid": os.getegid()}
        for name in _OWNED_SOCKETS:
            section = plugins.get(name)
            if isinstance(section, dict):
                for key, value in ids.items():
                    if section.get(key) == value:
                        del section[key]
    return out


def _scrub(value: Any) -> Any:
    """A copy with every secret-named key's value replaced."""
    if isinstance(value, Mapping):
        return {k: "<redacted>" if str(k).lower() in SECRET_KEYS else _scrub(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _fmt_path(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        key = str(part)
        if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
            key = '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'
        text += ("." if text else "") + key
    return text or "<root>"


def _related(path: tuple[Any, ...], allowed: tuple[Any, ...]) -> bool:
    """``path`` equals, is below or is above ``allowed``."""
    n = min(len(path), len(allowed))
    return path[:n] == allowed[:n]


def compare(a: Mapping[str, Any], b: Mapping[str, Any], *,
            allowed: Iterable[tuple[Any, ...]] = ()) -> list[str]:
    """Differences between two parsed dumps after :func:`normalize`, one readable line each.

    ``[]`` means containerd read both the same way. A difference whose key path equals, is
    below or is above a path in ``allowed`` (e.g. ``("plugins", "io.containerd.cri.v1.images",
    "snapshotter")``) is not reported; "above" covers a whole table added or removed around an
    allowed key. List order counts.
    """
    allow = [tuple(p) for p in allowed]
    diff = DeepDiff(normalize(a), normalize(b), view="tree", verbose_level=2)
    lines: list[tuple[str, str]] = []
    for kind, items in diff.items():
        for item in items:
            path = tuple(item.path(output_format="list"))
            if any(_related(path, p) for p in allow):
                continue
            where = _fmt_path(path)
            t1, t2 = _scrub(item.t1), _scrub(item.t2)  # CI logs show these: no secrets
            if kind in ("values_changed", "type_changes"):
                text = f"changed {where}: {t1!r} -> {t2!r}"
            elif kind in ("dictionary_item_added", "iterable_item_added", "attribute_added"):
                text = f"added {where} = {t2!r}"
            elif kind in ("dictionary_item_removed", "iterable_item_removed", "attribute_removed"):
                text = f"removed {where} (was {t1!r})"
            else:
                text = f"{kind} {where}: {t1!r} -> {t2!r}"
            if path and str(path[-1]).lower() in SECRET_KEYS:
                text = f"{kind.split('_')[-1]} {where}: <redacted>"
            lines.append((where, text))
    return [text for _, text in sorted(lines)]


_MIGRATED = re.compile(r"^(Configuration migrated from version )\d+")


def _message_key(message: str) -> str:
    # 2.3+ warn "Configuration migrated from version N" for every file below 4: the same
    # warning for a v2 original and its v3 migration, whatever N is.
    return _MIGRATED.sub(r"\1N", message)


def new_warnings(before: Dump, after: Dump) -> list[str]:
    """Warnings and errors of ``after`` that ``before`` did not log (texts without timestamps)."""
    seen = {_message_key(m) for m in (*before.warnings, *before.errors)}
    out: list[str] = []
    for message in (*after.warnings, *after.errors):
        key = _message_key(message)
        if key not in seen:
            seen.add(key)
            out.append(message)
    return out
