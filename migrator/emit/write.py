"""Writing files so that a crash, a full disk or a failed write never leaves half a config.

`write_atomic` is what `--in-place`, `-o` and `--report-json` use.

A process killed between creating its temporary file and the rename (`kill -9`, a power cut)
cannot remove it: the original is intact, and `.<name>.cm-<pid>-<random>.tmp` stays beside it.
The next write of the same file removes such leftovers: only names of exactly that pattern for
that file, only regular files owned by the user who runs it, and only when the process that made
it is gone (no process has that id) or the file is older than `STALE_AFTER` (a process id can be
reused). Nothing else in the directory is touched.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import time

STALE_AFTER = 3600  # seconds: a temporary file this old is a leftover, whoever made it


class ChangedError(OSError):
    """The file is not the one that was read any more: it vanished, or someone wrote it."""


def write_atomic(path: str | os.PathLike[str], data: bytes, *,
                 backup_suffix: str | None = None,
                 expect: os.stat_result | None = None) -> str:
    """Replace the file at `path` with `data` atomically; return the path actually written.

    - Symlinks are resolved first (`os.path.realpath`): the link's *target* is replaced and the
      link stays a link pointing at it. A backup is made beside the target, too.
    - The data goes to a temporary file in the target's directory
      (`.<name>.cm-<pid>-<random>.tmp`, from `tempfile.mkstemp`; leftovers of killed runs are
      removed first, see `remove_leftovers`), which is flushed and fsynced, given the mode of
      the file it replaces (and, when running as root, its owner and group; a new file gets
      0666 minus the umask), then renamed over the target with `os.replace`; finally the
      directory is fsynced.
    - With `backup_suffix`, the existing file is first copied to `<target><suffix>` the same
      atomic way (same mode and owner as the original). Nothing is backed up when the file
      does not exist yet.
    - On any failure before the rename, the temporary file is removed, the original is untouched
      and the exception (an `OSError`, normally) propagates.
    - Not kept: hard links (the path gets a new inode), extended attributes, ACLs and SELinux
      labels (run `restorecon` on SELinux systems).
    - The target must be a regular file or not exist: a directory raises `IsADirectoryError`,
      anything else (a device, a FIFO, a socket) `OSError(EINVAL)`, because renaming over
      `/dev/null` as root would replace the device.
    - With `expect` (the `os.stat` of the file taken before it was read), the file must still be
      that file, unmodified (same device, inode, size and modification time), both before
      anything is written and again just before the rename; otherwise `ChangedError` (an
      `OSError`) is raised and nothing is written: a file that vanished is not re-created, and
      an edit made meanwhile is not overwritten. (A change inside the last instant between that
      check and the rename cannot be detected.)
    """
    target = os.path.realpath(os.fspath(path))
    try:
        original = os.stat(target)
    except FileNotFoundError:
        original = None
    check = None
    if expect is not None:
        def check() -> None:
            _same_file(target, expect, os.fspath(path))
        check()
    if original is not None:
        if stat.S_ISDIR(original.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
        if not stat.S_ISREG(original.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
    if backup_suffix and original is not None:
        with open(target, "rb") as f:
            old = f.read()
        _replace(target + backup_suffix, old, original)
    _replace(target, data, original, check)
    return target


def _same_file(target: str, expect: os.stat_result, name: str) -> None:
    try:
        now = os.stat(target)
    except FileNotFoundError:
        raise ChangedError(errno.ENOENT, "the file vanished while it was being migrated; not "
                           "written", name) from None
    if (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns) != \
            (expect.st_dev, expect.st_ino, expect.st_size, expect.st_mtime_ns):
        raise ChangedError(errno.ESTALE, "the file changed while it was being migrated; not "
                           "written (run again)", name)


def _replace(target: str, data: bytes, like: os.stat_result | None,
             check=None) -> None:
    tmp = _temporary(target, data, like, sync=True)
    try:
        if check is not None:
            check()
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(os.path.dirname(target) or ".")


def _temporary(target: str, data: bytes, like: os.stat_result | None, *, sync: bool) -> str:
    """A temporary file beside target holding data, with target's mode (and owner, as root)."""
    directory, name = os.path.split(target)
    directory = directory or "."
    remove_leftovers(directory, name)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.cm-{os.getpid()}-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if like is not None:
                if os.geteuid() == 0:
                    os.fchown(f.fileno(), like.st_uid, like.st_gid)  # before chmod: chown
                mode = stat.S_IMODE(like.st_mode)                     # clears setuid bits
            else:
                mode = 0o666 & ~_umask()
            os.fchmod(f.fileno(), mode)
            if sync:
                os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def write_many(files: dict[str, bytes]) -> list[str]:
    """Write many files, each atomically as `write_atomic` does (no backups, no `expect`), made
    durable by two syncs of the file systems instead of two fsyncs per file: thousands of
    hosts.toml files, each in its own directory, spent most of their time in fsync. All
    temporary files are written first; any failure before the renames removes them all and
    leaves every target as it was. Returns the paths written."""
    staged: list[tuple[str, str]] = []
    try:
        for path, data in files.items():
            target = os.path.realpath(os.fspath(path))
            try:
                original = os.stat(target)
            except FileNotFoundError:
                original = None
            if original is not None and not stat.S_ISREG(original.st_mode):
                raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
            staged.append((_temporary(target, data, original, sync=False), target))
        os.sync()  # every temporary file's data is on disk before any rename
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    os.sync()  # and the renames
    return [target for _, target in staged]


def remove_leftovers(directory: str, name: str) -> list[str]:
    """Remove the temporary files that killed runs left for `name` in `directory` (see the
    module's docstring for which ones); return their names. Best effort: never raises."""
    pattern = re.compile(r"\.%s\.cm-([0-9]{1,10})-[a-z0-9_]{8}\.tmp" % re.escape(name))
    removed = []
    try:
        with os.scandir(directory) as entries:
            names = [e.name for e in entries if e.name.startswith(f".{name}.cm-")]
    except OSError:
        return removed
    for leftover in names:
        m = pattern.fullmatch(leftover)
        if m is None:
            continue
        path = os.path.join(directory, leftover)
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
                continue
            if _running(int(m.group(1))) and time.time() - st.st_mtime < STALE_AFTER:
                continue  # maybe another run writing this file right now
            os.unlink(path)
            removed.append(leftover)
        except OSError:
            continue
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process (or an id we cannot ask about): keep the file
    return True


def _fsync_directory(directory: str) -> None:
    """Make the rename durable. Best effort: the new file is already in place, and some
    filesystems cannot fsync a directory, so a failure here is not reported."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
