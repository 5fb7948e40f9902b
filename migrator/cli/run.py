"""Each file of a run, migrated once: alone, with --set, --hosts-dir or --with-imports."""
from __future__ import annotations

import os
from typing import Any, BinaryIO

import click

from migrator.cli.files import (
    _binary_stdout,
    _read,
    _report_clash,
    _special,
    _to_stdout,
    _write_file,
    _write_report,
)
from migrator.cli.job import (
    EXIT_CHECK,
    EXIT_ERROR,
    EXIT_LOSS,
    EXIT_OK,
    MAX_MESSAGE,
    STDIN,
    STDIN_NAME,
    _Job,
    _Outcome,
    _StdoutClosed,
)
from migrator.cli.output import (
    _fail,
    _internal_error,
    _one_line,
    _scrub,
    _scrub_data,
    _secrets_of,
    _secrets_of_file,
    _strerror,
    _summary,
    _target,
    unified_diff,
)


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
    hosts_changed, failed = _write_hosts_first(job, display, hosts, secrets)
    if failed is not None:
        return failed
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
        _diff_hosts(stdout, hosts_changed, secrets)
    changed = changed or bool(hosts_changed)
    if not job.quiet:
        click.echo(_scrub(result.format_text(), secrets), err=True, nl=False)
    code = EXIT_CHECK if job.check and changed else EXIT_OK
    return _Outcome(display, code, changed,
                    entry=_scrub_data(result.to_json(), secrets) if job.wants_report else {})


def _write_hosts_first(job: _Job, display: str, hosts: dict, secrets: set[str],
                       ) -> tuple[dict, _Outcome | None]:
    """The hosts.toml files that differ from the disk, written (unless --check) before the
    config: config_path never points at files that are not there. An outcome on failure."""
    from migrator.core.errors import ConfigError
    clash = _report_clash(job, list(hosts), "a hosts.toml file")
    if clash is not None:
        return {}, _fail(display, clash, secrets=secrets)
    changed = {p: t for p, t in hosts.items() if _disk_text(p) != t}
    if changed and job.mode != "check":
        from migrator.features.hosts import write_hosts
        try:
            write_hosts(hosts, overwrite=job.overwrite_hosts, hosts_dir=job.hosts_dir)
        except ConfigError as exc:
            return {}, _fail(display, str(exc), secrets=secrets)
        except OSError as exc:
            return {}, _fail(display, f"{job.hosts_dir}: cannot write: {_strerror(exc)}")
    return changed, None


def _diff_hosts(stdout: BinaryIO, changed: dict, secrets: set[str]) -> None:
    from migrator.features.hosts import redact_toml
    for path, text in changed.items():
        before_text = _disk_text(path)
        _to_stdout(stdout, _scrub(unified_diff(redact_toml(before_text or ""),
                                               redact_toml(text), str(path),
                                               new=before_text is None),
                                  secrets).encode("utf-8"))


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
                             allow_loss=job.allow_loss, assignments=job.sets,
                             hosts_dir=job.hosts_dir, overwrite_hosts=job.overwrite_hosts)
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
    hosts_changed, failed = _write_hosts_first(job, display, result.hosts, secrets)
    if failed is not None:
        return failed
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
        _diff_hosts(stdout, hosts_changed, secrets)
    changed = result.changed or bool(hosts_changed)
    code = EXIT_CHECK if job.check and changed else EXIT_OK
    return _Outcome(display, code, changed, entry=_scrub_data(result.to_json(), secrets))
