"""The command line: `containerd-migrate FILE... --to N [-o OUT | --in-place | --diff | --check]`.

stdout carries only TOML (or a diff, or `--report-json -`), so `> out.toml` always works; the
report and every error go to stderr. Bad input is one line (`file:line:col: message` or
`file: message`), never a traceback, and nothing is written. The migration library is imported
only once a command runs, so `--help` and `--version` stay fast.
"""
from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import click

from migrator.cli import bug_notice
from migrator.core import catalog

EXIT_OK, EXIT_CHECK, EXIT_ERROR, EXIT_LOSS = 0, 1, 2, 3
STDIN = "-"
STDIN_NAME = "<stdin>"
DEBUG_ENV = "CONTAINERD_MIGRATE_DEBUG"
from migrator.cli import PROG  # noqa: E402

MAX_MESSAGE = 2000  # an internal error's text is cut here (a diff of two trees can be huge)

EPILOG = """\b
Examples:
  containerd-migrate config.toml --to 3 > new.toml
  containerd-migrate config.toml --to 3 --in-place --backup .bak
  containerd-migrate --to 3 --check nodes/*.toml
\b
Exit codes: 0 done; 1 --check found a file to migrate; 2 bad input or usage (one line
per file on stderr, nothing written); 3 the target version cannot express a setting.
With several files the exit code is the worst of them (3 > 2 > 1 > 0).

Other command:
  containerd-migrate schema --version 3    JSON Schema of a config version or release
                                           line, for editors (schema --help)
"""


class _StdoutClosed(Exception):
    """stdout went away (`| head`): stop quietly."""


@dataclass
class _Outcome:
    name: str
    code: int = EXIT_OK
    changed: bool = False
    entry: dict[str, Any] = field(default_factory=dict)  # this file's --report-json entry


@dataclass
class _Job:
    to: int | None
    containerd: str | None
    allow_loss: bool
    mode: str                 # "stdout", "output", "in-place", "check" (with or without diff)
    diff: bool
    check: bool
    output: str | None
    backup: str | None
    quiet: bool
    hosts_dir: str | None = None
    overwrite_hosts: bool = False
    with_imports: bool = False
    sets: tuple = ()
    read_as: int | None = None
    report: str | None = None       # --report-json, a file: written last, so checked first
    report_refused: bool = False    # it turned out to be a file this run reads or writes
    wants_report: bool = False      # --report-json, to a file or stdout


class _Entry(click.Group):
    """`containerd-migrate FILE... --to N` migrates; a first word naming a subcommand runs it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] != "--version"):
            args = ["migrate", *args]
        return super().parse_args(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        migrate_cmd.format_help(ctx, formatter)

    def resolve_command(self, ctx: click.Context, args: list[str]):  # type: ignore[override]
        name, cmd, rest = super().resolve_command(ctx, args)
        if name == "migrate":  # the default command is the program itself in usage lines
            ctx.info_name = ""
            return PROG, cmd, rest
        return name, cmd, rest


@click.group(name=PROG, cls=_Entry,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(None, "--version", package_name="containerd-migrate", prog_name=PROG,
                      message="%(prog)s %(version)s")
def main() -> None:
    """Migrate containerd config.toml files between config versions."""


@main.command(name="schema", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", "version", metavar="N", help="Config version (1 to the newest).")
@click.option("--containerd", metavar="X.Y", help="Release line, e.g. 2.1 (its own schema).")
def schema_cmd(version: str | None, containerd: str | None) -> None:
    """Print the JSON Schema of a config version or of one containerd release line."""
    from migrator.checks.schema_export import schema_text
    try:
        text = schema_text(version=int(version) if version and version.isdigit() else version,
                           containerd=containerd)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    _binary_stdout().write(text.encode("utf-8"))


@main.command(name="migrate", epilog=EPILOG,
              context_settings={"help_option_names": ["-h", "--help"],
                                "max_content_width": 100})
@click.argument("files", nargs=-1, required=True, metavar="FILE...",
                type=click.Path(allow_dash=True))
@click.option("--to", "to", type=int, metavar="N",
              help="Config version to migrate to (or give --containerd).")
@click.option("--containerd", metavar="X.Y",
              help=f"Target a containerd release line ({', '.join(catalog.lines())}; or one of "
                   f"its patches): its native config version and its spellings. With --to, both "
                   f"must agree.")
@click.option("--allow-loss", is_flag=True,
              help="Drop what the target cannot express (listed in the report) instead of "
                   "failing with exit code 3.")
@click.option("--lint", is_flag=True,
              help="Diagnose instead of migrating: file:line:col: ID severity message "
                   "(docs/rules.md). Exit 1 when an error-level finding remains.")
@click.option("--fix", is_flag=True, help="With --lint: apply the safe fixes in place.")
@click.option("--kubelet-config", metavar="PATH",
              help="With --lint: kubelet config.yaml to check the cgroup driver against.")
@click.option("--kubernetes", is_flag=True,
              help="With --lint: the node runs Kubernetes (CRI must not be disabled).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True, help="With --lint: output format.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Set a setting by its version-independent name (docs/settings.md), written "
                   "where the file's version wants it; repeatable. Without --to the file keeps "
                   "its version.")
@click.option("--read-as", type=int, metavar="N",
              help="Read a file without a version line (a drop-in) as config version N.")
@click.option("--hosts-dir", metavar="DIR",
              help="Move registry mirrors and TLS settings into DIR/<host>/hosts.toml files "
                   "(absolute path; becomes registry.config_path).")
@click.option("--overwrite-hosts", is_flag=True,
              help="With --hosts-dir: replace hosts.toml files whose content differs.")
@click.option("--with-imports", is_flag=True,
              help="Migrate FILE and every file it imports as one set, each in its own file "
                   "(needs --in-place, --diff or --check).")
@click.option("-o", "--output", metavar="PATH", type=click.Path(allow_dash=True),
              help="Write the migrated TOML to PATH (atomically) instead of stdout.")
@click.option("--in-place", is_flag=True,
              help="Rewrite each FILE atomically, only when its content changes; through a "
                   "symlink the link's target is rewritten.")
@click.option("--backup", metavar="SUFFIX",
              help="With --in-place: first copy each file that changes to FILE+SUFFIX.")
@click.option("--diff", is_flag=True, help="Print a unified diff on stdout; write nothing.")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if a FILE is not already what --to N gives.")
@click.option("--report-json", metavar="PATH", type=click.Path(allow_dash=True),
              help="Also write the report as JSON to PATH ('-': stdout, when the TOML does not "
                   "go there). With several files: a list, one entry per file (failed files "
                   "have an 'error' key).")
@click.option("-q", "--quiet", is_flag=True,
              help="No report on stderr (errors, and with --check each file that is not at "
                   "the target, are still printed).")
def migrate_cmd(files: tuple[str, ...], to: int | None, containerd: str | None,
                allow_loss: bool, lint: bool, fix: bool, kubelet_config: str | None,
                kubernetes: bool, fmt: str, sets: tuple[str, ...], read_as: int | None,
                hosts_dir: str | None, overwrite_hosts: bool,
                with_imports: bool, output: str | None, in_place: bool,
                backup: str | None, diff: bool, check: bool, report_json: str | None,
                quiet: bool) -> None:
    """Migrate containerd config.toml FILE(s) to config version N.

    The migrated TOML goes to stdout (FILE '-' reads stdin) and the report of every change,
    with the rule and containerd release it follows, to stderr.
    """
    if lint:
        clash = [name for name, on in (
            ("--to", to is not None), ("-o", output is not None), ("--in-place", in_place),
            ("--diff", diff), ("--check", check), ("--report-json", report_json is not None),
            ("--backup", backup is not None), ("--allow-loss", allow_loss), ("--set", bool(sets)),
            ("--hosts-dir", hosts_dir is not None)) if on]
        if clash:
            raise click.UsageError(f"--lint does not go with {', '.join(clash)}")
        from migrator.cli.lint import lint_main
        sys.exit(lint_main(list(files), containerd=containerd, kubelet_config=kubelet_config,
                           kubernetes=kubernetes, fix=fix, fmt=fmt, with_imports=with_imports))
    if fix or kubelet_config or kubernetes or fmt != "text":
        raise click.UsageError("--fix, --kubelet-config, --kubernetes and --format go with --lint")
    from migrator.core.errors import ConfigError
    from migrator.pipeline import resolve_target
    assignments = []
    if sets:
        from migrator.features.settings import parse_assignment
        for text in sets:
            try:
                assignments.append(parse_assignment(text))
            except ConfigError as exc:
                raise click.BadParameter(exc.message, param_hint="'--set'") from None
    try:  # --set alone may keep the file's version; everything else says where to go
        if not (assignments and to is None and containerd is None) or hosts_dir is not None \
                or with_imports:
            to, _ = resolve_target(to, containerd)
    except ConfigError as exc:
        raise click.UsageError(exc.message) from None
    job = _validate(files, to, output, in_place, backup, diff, check, report_json, quiet)
    job.containerd, job.allow_loss = containerd, allow_loss
    job.sets, job.read_as = tuple(assignments), read_as
    if read_as is not None and (hosts_dir is not None or with_imports):
        raise click.UsageError("--read-as is for a drop-in on its own (not --hosts-dir or "
                               "--with-imports, which read the root config)")
    job.hosts_dir, job.overwrite_hosts, job.with_imports = hosts_dir, overwrite_hosts, with_imports
    if hosts_dir is not None and (len(files) > 1 or with_imports):
        raise click.UsageError("--hosts-dir takes one FILE (and not --with-imports)")
    if with_imports and (job.mode in ("stdout", "output") or STDIN in files):
        raise click.UsageError("--with-imports writes several files: use --in-place, --diff "
                               "or --check")
    job.wants_report = report_json is not None
    if report_json is not None and report_json != STDIN:
        job.report = report_json
        problem = _report_problem(report_json, files, job)
        if problem is not None:  # before anything is written: not after the TOML
            click.echo(problem, err=True)
            sys.exit(EXIT_ERROR)
    try:
        code = _run(files, job, report_json)
    except _StdoutClosed:
        _silence_stdout()
        code = EXIT_ERROR
    except Exception as exc:  # a bug: one line, the traceback only on request
        code = _internal_error(exc)
    sys.exit(code)


def _validate(files: tuple[str, ...], to: int | None, output: str | None, in_place: bool,
              backup: str | None, diff: bool, check: bool, report_json: str | None,
              quiet: bool) -> _Job:
    from migrator.pipeline import supported_versions

    known = supported_versions()
    if to is not None and to not in known:
        raise click.BadParameter(f"unsupported version {to} (this tool knows "
                                 f"{', '.join(map(str, known))})", param_hint="'--to'")
    if output == STDIN:
        output = None
    modes = [name for name, on in (("--output", output is not None), ("--in-place", in_place),
                                   ("--check/--diff", check or diff)) if on]
    if len(modes) > 1:
        raise click.UsageError(f"{' and '.join(modes)} do not go together")
    if backup is not None:
        if not in_place:
            raise click.UsageError("--backup needs --in-place")
        if not backup or os.sep in backup or (os.altsep and os.altsep in backup):
            raise click.BadParameter("must be a non-empty file name suffix such as .bak",
                                     param_hint="'--backup'")
    if files.count(STDIN) > 1:
        raise click.UsageError("stdin ('-') can be read only once")
    if in_place and STDIN in files:
        raise click.UsageError("--in-place cannot rewrite stdin ('-')")
    mode = ("in-place" if in_place else "output" if output is not None
            else "check" if (check or diff) else "stdout")
    if len(files) > 1 and mode in ("stdout", "output"):
        raise click.UsageError("several files need --check, --diff or --in-place "
                               "(stdout and -o take one file)")
    if report_json == STDIN and (mode == "stdout" or diff):
        raise click.UsageError("--report-json - needs stdout free: add -o, --in-place or "
                               "--check, or give --report-json a file")
    return _Job(to=to, containerd=None, allow_loss=False, mode=mode, diff=diff, check=check,
                output=output, backup=backup, quiet=quiet)


def _run(files: tuple[str, ...], job: _Job, report_json: str | None) -> int:
    from migrator.cli.progress import progress

    stdout = _binary_stdout()
    outcomes = []
    with progress(len(files), job.quiet) as step:
        for i, name in enumerate(files, 1):
            step(i, name)
            outcomes.append(_process(name, job, stdout))
    if job.quiet and job.check:  # the pre-commit hook: silent, except for what fails it
        for o in outcomes:
            if o.code == EXIT_CHECK:
                click.echo(f"{o.name}: not {_target(job)} (see the change with --diff)", err=True)
    code = max(o.code for o in outcomes)
    if report_json is not None and not job.report_refused and (
            len(files) > 1 or code in (EXIT_OK, EXIT_CHECK)):
        data: Any = [o.entry for o in outcomes] if len(files) > 1 else outcomes[0].entry
        code = max(code, _write_report(report_json, data, stdout))
    if len(files) > 1 and not job.quiet:
        click.echo(_summary(outcomes, job), err=True)
    return code


def _process(name: str, job: _Job, stdout: BinaryIO) -> _Outcome:
    display = STDIN_NAME if name == STDIN else name
    secrets: set[str] = set()  # filled once the input is read: scrubbed from every message
    try:
        return _migrate_one(name, display, job, stdout, secrets)
    except _StdoutClosed:
        raise
    except Exception as exc:  # a bug in one file's migration: report it, go on with the batch
        return _Outcome(display, _internal_error(exc, display, secrets),
                        entry={"file": display, "error": "internal error: " + _scrub(
                            _one_line(exc), secrets)[:MAX_MESSAGE]})


def _migrate_one(name: str, display: str, job: _Job, stdout: BinaryIO,
                 secrets: set[str]) -> _Outcome:
    from migrator.core.errors import ConfigError, LossError
    from migrator.pipeline import migrate

    if job.with_imports:
        return _migrate_set(name, display, job, stdout, secrets)
    try:
        # --in-place: the file must still be this one when it is replaced (write_atomic checks)
        before = os.stat(name) if job.mode == "in-place" else None
        if before is not None and _special(before):  # read once, it could not be rewritten
            return _fail(display, f"{display}: cannot rewrite in place: not a regular file")
        data = _read(name)
    except OSError as exc:
        return _fail(display, f"{display}: {_strerror(exc)}")
    hosts: dict = {}
    try:
        if job.hosts_dir is not None:
            from migrator.features.hosts import migrate_registry
            result, hosts = migrate_registry(data, to=job.to, containerd=job.containerd,
                                             allow_loss=job.allow_loss, hosts_dir=job.hosts_dir,
                                             overwrite=job.overwrite_hosts, file=display,
                                             assignments=job.sets)
        elif job.sets:
            from migrator.features.settings import apply_sets
            result = apply_sets(data, list(job.sets), to=job.to, containerd=job.containerd,
                                allow_loss=job.allow_loss, file=display, version=job.read_as)
        else:
            result = migrate(data, to=job.to, containerd=job.containerd,
                             allow_loss=job.allow_loss, file=display)
    except LossError as exc:
        return _fail(display, str(exc), EXIT_LOSS, secrets | _secrets_of(data))
    except ConfigError as exc:
        return _fail(display, str(exc), secrets=secrets | _secrets_of(data))
    except BaseException:
        secrets.update(_secrets_of(data))  # for the internal error's message
        raise
    # the values to scrub from every message: from the tree the pipeline read, else read here
    secrets.update(result.secrets if result.secrets is not None else _secrets_of(data))
    clash = _report_clash(job, list(hosts), "a hosts.toml file")
    if clash is not None:
        return _fail(display, clash)
    hosts_changed = {p: t for p, t in hosts.items() if _disk_text(p) != t}
    if hosts_changed and job.mode != "check":
        from migrator.features.hosts import write_hosts
        try:  # before the config: config_path never points at files that are not there
            write_hosts(hosts, overwrite=job.overwrite_hosts, hosts_dir=job.hosts_dir)
        except ConfigError as exc:
            return _fail(display, str(exc), secrets=secrets)
        except OSError as exc:
            return _fail(display, f"{job.hosts_dir}: cannot write: {_strerror(exc)}")
    out = result.text.encode("utf-8")
    changed = out != data
    if job.mode == "stdout":
        _to_stdout(stdout, out)
    elif job.mode == "output":
        assert job.output is not None
        try:
            _write_file(job.output, out)
        except OSError as exc:
            return _fail(display, f"{job.output}: cannot write: {_strerror(exc)}")
    elif job.mode == "in-place" and changed:
        from migrator.emit.write import write_atomic
        try:
            write_atomic(name, out, backup_suffix=job.backup, expect=before)
        except OSError as exc:
            return _fail(display, f"{display}: cannot write: {_strerror(exc)}")
    if job.diff and changed:
        from migrator.features.hosts import redact_toml
        _to_stdout(stdout, _scrub(unified_diff(redact_toml(result.input_text),
                                               redact_toml(result.text), display),
                                  secrets).encode("utf-8"))
    if job.diff:
        from migrator.features.hosts import redact_toml
        for path, text in hosts_changed.items():
            before_text = _disk_text(path)
            _to_stdout(stdout, _scrub(unified_diff(redact_toml(before_text or ""),
                                                   redact_toml(text), str(path),
                                                   new=before_text is None),
                                      secrets).encode("utf-8"))
    changed = changed or bool(hosts_changed)
    if not job.quiet:
        click.echo(_scrub(result.format_text(), secrets), err=True, nl=False)
    code = EXIT_CHECK if job.check and changed else EXIT_OK
    return _Outcome(display, code, changed,
                    entry=_scrub_data(result.to_json(), secrets) if job.wants_report else {})


def _disk_text(path: Any) -> str | None:
    from migrator.core.loading import read_regular
    try:
        return read_regular(path).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _migrate_set(name: str, display: str, job: _Job, stdout: BinaryIO,
                 secrets: set[str]) -> _Outcome:
    """--with-imports: the root and every file it imports, migrated as one set."""
    from pathlib import Path

    from migrator.core.errors import ConfigError, LossError
    from migrator.core.secrets import cut
    from migrator.features.hosts import redact_toml
    from migrator.features.imports import migrate_set, write_set
    secrets.update(_secrets_of_file(name))
    try:
        result = migrate_set(Path(name), to=job.to, containerd=job.containerd,
                             allow_loss=job.allow_loss, assignments=job.sets)
    except LossError as exc:
        secrets.update(_secrets_of_file(exc.file))
        return _fail(display, str(exc), EXIT_LOSS, secrets)
    except ConfigError as exc:
        secrets.update(_secrets_of_file(exc.file))
        return _fail(display, str(exc), secrets=secrets)
    for r in result.files.values():
        secrets.update(_secrets_of(r.input_text))
    clash = _report_clash(job, [p for p in result.files if p != result.root], f"imported by "
                          f"{display}", backups=True)
    if clash is not None:
        return _fail(display, clash, secrets=secrets)
    if not job.quiet:
        click.echo(_scrub(result.format_text(), secrets), err=True, nl=False)
    elif not result.ok:  # -q keeps the errors: exit 2 always says why
        for f in result.errors:
            click.echo(cut(_scrub(_one_line(f.format(result.root)), secrets), None), err=True)
    if not result.ok:
        return _Outcome(display, EXIT_ERROR, entry=_scrub_data(result.to_json(), secrets))
    if job.mode == "in-place":
        try:
            write_set(result, backup_suffix=job.backup)
        except OSError as exc:
            return _fail(display, f"{display}: cannot write: {_strerror(exc)}")
    if job.diff:
        for path, r in result.files.items():
            if r.changed:
                _to_stdout(stdout, _scrub(unified_diff(redact_toml(r.input_text),
                                                       redact_toml(r.text), path),
                                          secrets).encode("utf-8"))
    code = EXIT_CHECK if job.check and result.changed else EXIT_OK
    return _Outcome(display, code, result.changed,
                    entry=_scrub_data(result.to_json(), secrets))


def unified_diff(before: str, after: str, name: str, *, new: bool = False) -> str:
    """`diff -u` between two texts, line endings kept: labelled a/<name> and b/<name>, or the
    path itself when it is absolute (`a//etc/...` is no path); a `new` file is /dev/null before."""
    import difflib

    old_label, new_label = (name, name) if os.path.isabs(name) else (f"a/{name}", f"b/{name}")
    out = []
    for line in difflib.unified_diff(_lines(before), _lines(after),
                                     "/dev/null" if new else old_label, new_label):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Split after each '\\n' only (str.splitlines also splits at U+2028 and friends, which a
    TOML string may hold)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


# click.get_binary_stream is deprecated from click 8.5 on; the standard streams' buffers are what
# it returned, and they exist under click's CliRunner too.
def _binary_stdout() -> BinaryIO:
    return sys.stdout.buffer


def _binary_stdin() -> BinaryIO:
    return sys.stdin.buffer


def _special(st: os.stat_result) -> bool:
    import stat
    return not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode)


def _read(name: str) -> bytes:
    """The file's bytes, at most one more than the library accepts (it then says so), so that
    `/dev/zero` or a huge file cannot eat the memory. A FILE the user names may be a FIFO
    (`containerd-migrate <(cmd) --to 3`) or a device; files found by the run (imports, hosts.toml
    files) are read only when regular (loading.read_regular)."""
    from migrator.core.loading import MAX_BYTES

    if name == STDIN:
        return _binary_stdin().read(MAX_BYTES + 1)
    with open(name, "rb") as f:
        return f.read(MAX_BYTES + 1)


def _write_file(path: str, data: bytes) -> None:
    """Atomically to a regular file; straight into a device or FIFO (`-o /dev/stdout`)."""
    import stat

    from migrator.emit.write import write_atomic

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        with open(path, "wb") as f:
            f.write(data)
        return
    write_atomic(path, data)


def _report_problem(path: str, files: tuple[str, ...], job: _Job) -> str | None:
    """Why --report-json PATH cannot be written, checked before anything is: PATH must not be a
    file this run reads or writes (an input, its backup, the -o output, where stdout goes), and
    its directory must exist and be writable."""
    import stat

    taken = [(f, "an input file") for f in files if f != STDIN]
    if job.output is not None:
        taken.append((job.output, "the -o output"))
    if job.backup:
        taken += [(os.path.realpath(f) + job.backup, "a backup") for f in files if f != STDIN]
    clash = None
    for other, what in taken:
        if _same_file(path, other):
            clash = f"--report-json {path} is {what}: give the report another path"
            break
    if clash is None and job.mode in ("stdout", "check") and _is_stdout(path) and \
            (job.mode == "stdout" or job.diff):
        clash = f"--report-json {path} is where stdout goes, which carries the TOML or the diff"
    if clash is not None:
        return f"{PROG}: {clash}; nothing written"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return f"{path}: cannot write: {_strerror(exc)}"
    if mode is not None and stat.S_ISDIR(mode):
        return f"{path}: cannot write: Is a directory"
    if mode is not None and not stat.S_ISREG(mode):  # a device or FIFO is written into
        return None if os.access(path, os.W_OK) else f"{path}: cannot write: Permission denied"
    directory = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(directory):
        return f"{path}: cannot write: No such file or directory"
    if not os.access(directory, os.W_OK | os.X_OK):  # the temporary file goes there
        return f"{path}: cannot write: Permission denied"
    return None


def _report_clash(job: _Job, paths: list[Any], what: str, backups: bool = False) -> str | None:
    """A message when --report-json names one of `paths` (found during the run: hosts.toml
    files, imported files); the report is then not written at all."""
    if job.report is None:
        return None
    for p in paths:
        others = [(str(p), what)] + ([(os.path.realpath(p) + job.backup, f"the backup of a file "
                                      f"{what}")] if backups and job.backup else [])
        for other, is_what in others:
            if _same_file(job.report, other):
                job.report_refused = True
                return (f"{PROG}: --report-json {job.report} is {is_what} ({other}): give the "
                        "report another path; nothing written")
    return None


def _same_file(a: str, b: str) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def _is_stdout(path: str) -> bool:
    """Whether `path` is the file or pipe stdout goes to (a terminal or /dev/null can take
    both: nothing is overwritten there)."""
    import stat
    try:
        here, out = os.stat(path), os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False
    return (here.st_dev, here.st_ino) == (out.st_dev, out.st_ino) and \
        (stat.S_ISREG(here.st_mode) or stat.S_ISFIFO(here.st_mode))


def _write_report(path: str, data: Any, stdout: BinaryIO) -> int:
    import json

    text = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if path == STDIN:
        _to_stdout(stdout, text)
        return EXIT_OK
    try:
        _write_file(path, text)
    except OSError as exc:
        click.echo(f"{path}: cannot write: {_strerror(exc)}", err=True)
        return EXIT_ERROR
    return EXIT_OK


def _to_stdout(stdout: BinaryIO, data: bytes) -> None:
    try:
        stdout.write(data)
        stdout.flush()
    except BrokenPipeError:
        raise _StdoutClosed() from None


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _fail(display: str, message: str, code: int = EXIT_ERROR,
          secrets: set[str] | None = None) -> _Outcome:
    from migrator.core.secrets import cut
    message = cut(_scrub(_one_line(message), secrets), None)  # a 10 MB value: not a 10 MB line
    click.echo(message, err=True)
    return _Outcome(display, code, entry={"file": display, "error": message})


# -- secrets: the report and the errors are redacted where they are made; this is the last line
# of defence, so that no message (an internal error quoting a value, say) can carry the value of
# a password, auth string, identity token, credential header or URL user information of the
# input.

def _secrets_of(data: bytes | str) -> set[str]:
    import tomllib

    from migrator.core.loading import long_key
    from migrator.core.secrets import secret_values, secret_values_in_text
    try:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        if long_key(text) is None:  # such a key costs tomllib seconds and gigabytes
            try:
                return secret_values(tomllib.loads(text.removeprefix("\ufeff")))
            except (tomllib.TOMLDecodeError, RecursionError, ValueError):
                pass
        return secret_values_in_text(text)
    except Exception:  # never let the safety net itself fail the run
        return set()


def _secrets_of_file(path: str | None) -> set[str]:
    from migrator.core.loading import read_regular
    if not path or path.startswith("<"):
        return set()
    try:
        return _secrets_of(read_regular(path))
    except OSError:
        return set()


def _scrub(text: str, secrets: set[str] | None) -> str:
    from migrator.core.secrets import scrub
    return scrub(text, secrets or ())


def _scrub_data(data: Any, secrets: set[str]) -> Any:
    if isinstance(data, str):
        return _scrub(data, secrets)
    if isinstance(data, dict):
        return {k: _scrub_data(v, secrets) for k, v in data.items()}
    if isinstance(data, list):
        return [_scrub_data(v, secrets) for v in data]
    return data


def _target(job: _Job) -> str:
    what = f"at version {job.to}" if job.to is not None else "as asked"
    return what + (f" for containerd {job.containerd}" if job.containerd else "")


def _summary(outcomes: list[_Outcome], job: _Job) -> str:
    done = [o for o in outcomes if o.code in (EXIT_OK, EXIT_CHECK)]
    verb = "rewritten" if job.mode == "in-place" else "to migrate"
    target = f"at version {job.to}" if job.to is not None else "as asked"
    parts = [f"{sum(o.changed for o in done)} {verb}",
             f"{sum(not o.changed for o in done)} already {target}"]
    failed = sum(o.code == EXIT_ERROR for o in outcomes)
    lossy = sum(o.code == EXIT_LOSS for o in outcomes)
    if failed:
        parts.append(f"{failed} failed")
    if lossy:
        parts.append(f"{lossy} cannot be expressed {target.replace('at ', 'in ')}")
    return f"{PROG}: {len(outcomes)} files: " + ", ".join(parts)


def _strerror(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _one_line(message: object) -> str:
    return " ".join(str(message).split("\n")).replace("\r", " ")


def _internal_error(exc: BaseException, file: str | None = None,
                    secrets: set[str] | None = None) -> int:
    if os.environ.get(DEBUG_ENV) == "1":  # on request only: a traceback may quote values
        import traceback
        traceback.print_exception(exc, file=sys.stderr)
    text = _scrub(_one_line(exc), secrets)[:MAX_MESSAGE]
    if type(exc).__name__ != "InternalError":
        text = f"{type(exc).__name__}: {text}"
    if file is not None and not text.startswith(f"{file}: "):
        text = f"{file}: {text}"
    click.echo(f"{PROG}: internal error: {text}; {bug_notice()} (set {DEBUG_ENV}=1 for the "
               f"traceback)", err=True)
    return EXIT_ERROR

