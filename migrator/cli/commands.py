"""The command line: `containerd-migrate FILE... --to N [-o OUT | --in-place | --diff | --check]`.

stdout carries only TOML (or a diff, or `--report-json -`), so `> out.toml` always works; the
report and every error go to stderr. Bad input is one line (`file:line:col: message` or
`file: message`), never a traceback, and nothing is written. The migration library is imported
only once a command runs, so `--help` and `--version` stay fast.
"""
from __future__ import annotations

import os
import sys

import click

from migrator.cli import PROG
from migrator.cli.files import (
    _binary_stdout,
    _read,  # noqa: F401
    _report_problem,
    _silence_stdout,
)
from migrator.cli.job import (  # noqa: F401
    DEBUG_ENV,
    EXIT_ERROR,
    STDIN,
    STDIN_NAME,
    _Job,
    _StdoutClosed,
)
from migrator.cli.output import _internal_error, unified_diff  # noqa: F401
from migrator.cli.run import _run
from migrator.core import catalog

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
    if hosts_dir is not None and len(files) > 1:
        raise click.UsageError("--hosts-dir takes one FILE (with --with-imports, the root)")
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


