"""--in-place (and -o, --report-json) write atomically: a temporary file in the target's own
directory, written, fsynced, given the original's mode and owner, renamed over the target, then
the directory fsynced. Through a symlink the link's target is written and the link stays.
Whatever fails, the original is untouched and no temporary file is left behind; a file that
vanished or changed while it was being migrated is not written at all.

tests/test_cli.py covers the basics (mode kept, backup, a failing replace or fsync); this file
completes them: the order of the steps, the directory of the temporary file, ownership, symlink
chains, every step failing in turn, interrupts, and the check against concurrent changes.
"""
from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import migrator
from migrator.cli import commands as cli
from migrator.emit import write
from migrator.emit.write import ChangedError, write_atomic

from .helpers import REPO

V2 = ('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n'
      '  sandbox_image = "registry.k8s.io/pause:3.9"\n')


def run(*args: str):
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def expected_v3() -> bytes:
    return migrator.migrate(V2, to=3).text.encode()


def snapshot(path: Path) -> tuple[bytes, int, int]:
    st = path.stat()
    return path.read_bytes(), st.st_mtime_ns, st.st_ino


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture(autouse=True)
def _cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(V2)
    return p


# --- the steps, in order ----------------------------------------------------------------------

def test_temp_file_in_the_same_directory_fsync_then_rename_then_fsync_the_directory(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple] = []
    real_mkstemp, real_fsync, real_replace = tempfile.mkstemp, os.fsync, os.replace

    def mkstemp(*args, **kwargs):
        fd, path = real_mkstemp(*args, **kwargs)
        events.append(("mkstemp", path, fd))
        return fd, path

    def fsync(fd):
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(("fsync", kind, os.fstat(fd).st_ino))
        return real_fsync(fd)

    def replace(src, dst):
        # at the rename, the target is still the original and the new file is complete
        assert Path(dst).read_text() == V2
        assert Path(src).read_bytes() == expected_v3()
        events.append(("replace", src, dst))
        return real_replace(src, dst)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    r = run("config.toml", "--to", "3", "--in-place", "-q")
    monkeypatch.undo()
    assert r.exit_code == 0, r.stderr
    assert [e[0] for e in events] == ["mkstemp", "fsync", "replace", "fsync"]
    (_, tmp, _), (_, kind, tmp_ino), (_, src, dst), (_, dir_kind, dir_ino) = events
    assert os.path.dirname(tmp) == str(config.parent) and src == tmp
    assert os.path.basename(tmp).startswith(".config.toml.") and tmp.endswith(".tmp")
    assert dst == str(config) and kind == "file" and tmp_ino == config.stat().st_ino
    assert dir_kind == "dir" and dir_ino == config.parent.stat().st_ino
    assert config.read_bytes() == expected_v3() and listing(config.parent) == ["config.toml"]


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o755, 0o400, 0o2750])
def test_mode_is_kept(config: Path, mode: int) -> None:
    config.chmod(mode)
    assert run("config.toml", "--to", "3", "--in-place", "--backup", ".bak", "-q").exit_code == 0
    assert stat.S_IMODE(config.stat().st_mode) == mode
    assert stat.S_IMODE((config.parent / "config.toml.bak").stat().st_mode) == mode
    assert config.read_bytes() == expected_v3()


def test_owner_and_group_are_kept(config: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a file away (and only root's writes keep the owner)")
    os.chown(config, 1234, 5678)
    config.chmod(0o640)
    assert run("config.toml", "--to", "3", "--in-place", "--backup", ".bak", "-q").exit_code == 0
    for p in (config, config.parent / "config.toml.bak"):
        st = p.stat()
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 5678, 0o640), p


def test_a_new_output_file_follows_the_umask(config: Path, tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        assert run("config.toml", "--to", "3", "-o", "new.toml", "-q").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.toml").stat().st_mode) == 0o600


def test_an_unchanged_file_is_not_touched(tmp_path: Path) -> None:
    p = tmp_path / "v3.toml"
    p.write_bytes(expected_v3())
    before = snapshot(p)
    assert run("v3.toml", "--to", "3", "--in-place", "--backup", ".bak").exit_code == 0
    assert snapshot(p) == before and listing(tmp_path) == ["v3.toml"]


# --- symlinks ---------------------------------------------------------------------------------

def test_through_a_symlink_chain_the_final_target_is_written_in_its_own_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "etc" / "containerd"
    real.mkdir(parents=True)
    target = real / "config.toml"
    target.write_text(V2)
    target.chmod(0o600)
    (tmp_path / "hop.toml").symlink_to(target)               # absolute
    (tmp_path / "link.toml").symlink_to("hop.toml")          # relative, to a link
    dirs: list[str] = []
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        dirs.append(kwargs.get("dir"))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    r = run("link.toml", "--to", "3", "--in-place", "--backup", ".bak", "-q")
    monkeypatch.undo()
    assert r.exit_code == 0, r.stderr
    assert dirs == [str(real), str(real)]  # the backup and the file: beside the target
    assert (tmp_path / "link.toml").is_symlink() and os.readlink(tmp_path / "link.toml") == "hop.toml"
    assert (tmp_path / "hop.toml").is_symlink() and os.readlink(tmp_path / "hop.toml") == str(target)
    assert target.read_bytes() == expected_v3() and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert (real / "config.toml.bak").read_text() == V2
    assert listing(tmp_path) == ["etc", "hop.toml", "link.toml"]
    assert listing(real) == ["config.toml", "config.toml.bak"]


def test_a_dangling_symlink_is_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "link.toml").symlink_to("nowhere.toml")
    r = run("link.toml", "--to", "3", "--in-place")
    assert r.exit_code == 2 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith("link.toml: ")
    assert listing(tmp_path) == ["link.toml"] and (tmp_path / "link.toml").is_symlink()


def test_hard_links_are_not_kept(config: Path, tmp_path: Path) -> None:
    """Documented in write_atomic: the path gets a new inode; another name keeps the old text."""
    os.link(config, tmp_path / "other-name.toml")
    assert run("config.toml", "--to", "3", "--in-place", "-q").exit_code == 0
    assert config.read_bytes() == expected_v3()
    assert (tmp_path / "other-name.toml").read_text() == V2


# --- failures: the original stays, no temporary file stays -----------------------------------

class _FailingFile:
    """A file object whose write fails half way, as on a full disk."""

    def __init__(self, real) -> None:
        self.real = real

    def write(self, data: bytes) -> int:
        self.real.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()
        return False


def _fail_write(monkeypatch: pytest.MonkeyPatch) -> None:
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **kw: _FailingFile(real_fdopen(fd, *a, **kw)))


def _raise(error: BaseException):
    def boom(*args, **kwargs):
        raise error
    return boom


FAILURES = {
    "mkstemp": lambda mp: mp.setattr(tempfile, "mkstemp",
                                     _raise(PermissionError(errno.EACCES, "Permission denied"))),
    "write": _fail_write,
    "fchown": lambda mp: mp.setattr(os, "fchown",
                                    _raise(PermissionError(errno.EPERM, "Operation not permitted"))),
    "fchmod": lambda mp: mp.setattr(os, "fchmod", _raise(OSError(errno.EIO, "Input/output error"))),
    "fsync": lambda mp: mp.setattr(os, "fsync", _raise(OSError(errno.EIO, "Input/output error"))),
    "replace": lambda mp: mp.setattr(os, "replace", _raise(OSError(errno.EXDEV, "Cross-device link"))),
}


@pytest.mark.parametrize("backup", [False, True])
@pytest.mark.parametrize("step", FAILURES)
def test_a_failing_step_leaves_the_original_and_no_temporary_file(
        config: Path, monkeypatch: pytest.MonkeyPatch, step: str, backup: bool) -> None:
    if step == "fchown" and os.geteuid() != 0:
        pytest.skip("fchown is only called as root")
    config.chmod(0o640)
    before = snapshot(config)
    FAILURES[step](monkeypatch)
    r = run("config.toml", "--to", "3", "--in-place", *(["--backup", ".bak"] if backup else []))
    monkeypatch.undo()
    assert r.exit_code == 2 and r.stdout_bytes == b""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("config.toml: cannot write: "), r.stderr
    assert "Traceback" not in r.stderr
    assert snapshot(config) == before and stat.S_IMODE(config.stat().st_mode) == 0o640
    assert listing(config.parent) == ["config.toml"]


def test_a_failing_main_write_after_the_backup_keeps_the_backup_only(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The backup is written first (it is a copy of the original, so keeping it is harmless)."""
    before = snapshot(config)
    real_replace = os.replace

    def second_fails(src, dst):
        if dst == str(config):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)
    r = run("config.toml", "--to", "3", "--in-place", "--backup", ".bak")
    monkeypatch.undo()
    assert r.exit_code == 2
    assert snapshot(config) == before
    assert listing(config.parent) == ["config.toml", "config.toml.bak"]
    assert (config.parent / "config.toml.bak").read_text() == V2


def test_an_unfsyncable_directory_is_not_an_error(config: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    real_fsync = os.fsync

    def no_dir_fsync(fd):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", no_dir_fsync)
    assert run("config.toml", "--to", "3", "--in-place", "-q").exit_code == 0
    assert config.read_bytes() == expected_v3() and listing(config.parent) == ["config.toml"]


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_during_the_write_removes_the_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interrupt: type) -> None:
    p = tmp_path / "c.toml"
    p.write_bytes(b"old\n")
    before = snapshot(p)
    monkeypatch.setattr(os, "fsync", _raise(interrupt()))
    with pytest.raises(interrupt):
        write_atomic(p, b"new\n", backup_suffix=".bak")
    monkeypatch.undo()
    assert snapshot(p) == before and listing(tmp_path) == ["c.toml"]


def test_a_killed_process_leaves_the_original_intact(tmp_path: Path) -> None:
    """A SIGKILL between fsync and rename cannot clean up: the original is intact, and what
    is left is the dot-named temporary file (`.config.toml.cm-<pid>-<random>.tmp`) beside it."""
    p = tmp_path / "config.toml"
    p.write_text(V2)
    before = snapshot(p)
    code = ("import os, sys\n"
            "from migrator.emit.write import write_atomic\n"
            "os.replace = lambda *a: os._exit(9)\n"
            "write_atomic(sys.argv[1], b'new\\n')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH",
                                                                                    "")]))
    proc = subprocess.run([sys.executable, "-c", code, str(p)], env=env, timeout=60)
    assert proc.returncode == 9
    assert snapshot(p) == before
    left = [n for n in listing(tmp_path) if n != "config.toml"]
    assert len(left) == 1 and left[0].startswith(".config.toml.cm-") and left[0].endswith(".tmp")
    assert (tmp_path / left[0]).read_bytes() == b"new\n"


# --- leftovers of killed runs are removed by the next run ------------------------------------

# The real command line in a child process, stopped inside the write (after the temporary file
# is written and synced, before the rename) until it is killed.
_STOP_IN_THE_WRITE = """\
import os, sys, time
real_fsync = os.fsync
def fsync(fd):
    real_fsync(fd)
    if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".config.toml.cm-"):
        print("in the write", flush=True)
        time.sleep(600)
os.fsync = fsync
from migrator.cli import commands as cli
sys.argv = ["containerd-migrate", *sys.argv[1:]]
cli.main()
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to name the fd")
def test_the_leftover_of_a_killed_in_place_run_is_removed_by_the_next_run(
        config: Path, tmp_path: Path) -> None:
    import signal
    before = snapshot(config)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH",
                                                                                    "")]))
    proc = subprocess.Popen([sys.executable, "-c", _STOP_IN_THE_WRITE, "config.toml", "--to",
                             "3", "--in-place", "-q"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # returns once the child is in the write (or has died)
        assert line == b"in the write\n", proc.stderr.read() if proc.stderr else b""
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    left = [n for n in listing(tmp_path) if n != "config.toml"]
    assert snapshot(config) == before  # the original was never harmed
    assert left == [f".config.toml.cm-{proc.pid}-{left[0][-12:-4]}.tmp"]
    assert (tmp_path / left[0]).read_bytes() == expected_v3()

    r = run("config.toml", "--to", "3", "--check")  # writes nothing: leaves it
    assert r.exit_code == 1 and len(listing(tmp_path)) == 2
    r = run("config.toml", "--to", "3", "--in-place", "-q")  # the next write removes it
    assert r.exit_code == 0
    assert listing(tmp_path) == ["config.toml"] and config.read_bytes() == expected_v3()


def test_only_our_own_stale_temporary_files_are_removed(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule (migrator/write.py): exactly `.<name>.cm-<pid>-<8 random>.tmp` for the file
    being written, a regular file of this user, whose process is gone or which is older than
    STALE_AFTER. Everything else stays: a user's file is never deleted."""
    gone = _a_pid_that_is_not_running()
    here = os.getpid()
    old = os.stat(tmp_path).st_mtime - write.STALE_AFTER - 60

    def make(name: str, mtime: float | None = None) -> str:
        (tmp_path / name).write_bytes(b"x")
        if mtime is not None:
            os.utime(tmp_path / name, (mtime, mtime))
        return name

    removed = {make(f".c.toml.cm-{gone}-abcd_123.tmp"),         # its process is gone
               make(f".c.toml.cm-{here}-zzzzzzzz.tmp", old)}    # alive, but an hour old
    kept = {make(f".c.toml.cm-{here}-yyyyyyyy.tmp"),            # maybe being written now
            make(f".c.toml.cm-1-yyyyyyyy.tmp"),                 # init is running
            make(f".c.toml.{gone}-abcd1234.tmp"),               # not our pattern
            make(f".c.toml.cm-{gone}-abcd1234.tmp.keep"),
            make(f".c.toml.cm-{gone}-ABCD1234.tmp"),
            make(f".c.toml.cm-{gone}-abcd123.tmp"),
            make(f"c.toml.cm-{gone}-abcd1234.tmp"),
            make(f".other.toml.cm-{gone}-abcd1234.tmp"),       # another file's
            make(".c.toml.cm--abcd1234.tmp"),
            make(".c.toml.abcd1234.tmp", old),                   # mkstemp's own names: not ours
            "c.toml"}
    (tmp_path / "c.toml").write_text(V2)
    os.mkdir(tmp_path / f".c.toml.cm-{gone}-dddddddd.tmp")        # not a regular file
    os.symlink("c.toml", tmp_path / f".c.toml.cm-{gone}-ssssssss.tmp")
    kept |= {f".c.toml.cm-{gone}-dddddddd.tmp", f".c.toml.cm-{gone}-ssssssss.tmp"}
    if os.geteuid() == 0:  # another user's leftover
        os.chown(tmp_path / make(f".c.toml.cm-{gone}-uuuuuuuu.tmp"), 4321, 4321)
        kept.add(f".c.toml.cm-{gone}-uuuuuuuu.tmp")
    write_atomic(tmp_path / "c.toml", b"new\n")
    assert set(listing(tmp_path)) == kept
    assert not removed & set(listing(tmp_path))
    assert write.remove_leftovers(str(tmp_path), "c.toml") == []


def _a_pid_that_is_not_running() -> int:
    for pid in range(4_000_000, 4_100_000):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            continue
    raise AssertionError("no free process id found")


# --- the file must still be the one that was read ---------------------------------------------

def test_write_atomic_expect(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_bytes(b"old\n")
    seen = os.stat(p)
    write_atomic(p, b"new\n", expect=seen)  # unchanged: written
    assert p.read_bytes() == b"new\n"
    with pytest.raises(ChangedError, match="changed while"):  # the inode changed by that write
        write_atomic(p, b"newer\n", expect=seen)
    assert p.read_bytes() == b"new\n"
    seen = os.stat(p)
    p.unlink()
    with pytest.raises(ChangedError, match="vanished") as err:
        write_atomic(p, b"newer\n", expect=seen, backup_suffix=".bak")
    assert err.value.errno == errno.ENOENT and isinstance(err.value, OSError)
    assert listing(tmp_path) == []  # not re-created


def test_a_change_during_the_write_is_caught_before_the_rename(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "c.toml"
    p.write_bytes(b"old\n")
    seen = os.stat(p)
    real_fsync = os.fsync

    def someone_writes(fd):  # after the first check, while our temporary file is synced
        real_fsync(fd)
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            with open(p, "ab") as f:
                f.write(b"theirs\n")

    monkeypatch.setattr(os, "fsync", someone_writes)
    with pytest.raises(ChangedError):
        write_atomic(p, b"new\n", expect=seen)
    monkeypatch.undo()
    assert p.read_bytes() == b"old\ntheirs\n" and listing(tmp_path) == ["c.toml"]


def test_a_file_deleted_during_an_in_place_run_is_not_recreated(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_mkstemp = tempfile.mkstemp

    def delete_first(*args, **kwargs):
        if config.exists():
            config.unlink()
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(write.tempfile, "mkstemp", delete_first)
    r = run("config.toml", "--to", "3", "--in-place")
    monkeypatch.undo()
    assert r.exit_code == 2
    assert r.stderr.startswith("config.toml: cannot write: the file vanished")
    assert listing(config.parent) == []


def test_write_many_is_all_or_nothing_before_the_renames(tmp_path):
    """write_many (thousands of hosts.toml files): one target that may not be replaced stops
    the run before any rename; no target changes and no temporary file stays."""
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    a.write_text("old a")
    c.mkdir()  # a directory is not a file to replace
    with pytest.raises(OSError):
        write.write_many({str(a): b"new a", str(b): b"new b", str(c): b"new c"})
    assert a.read_text() == "old a" and not b.exists() and c.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "c"]
    written = write.write_many({str(a): b"new a", str(b): b"new b"})
    assert written == [str(a), str(b)]
    assert (a.read_text(), b.read_text()) == ("new a", "new b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]
