#!/usr/bin/python
# Apache-2.0, like containerd-migrate. An Ansible module: use it with
# ANSIBLE_LIBRARY=contrib/ansible or copy it into a collection's plugins/modules/. The managed
# node needs the migrator library: `pip install containerd-migrate` into the Python that runs
# the module (ansible_python_interpreter).
from __future__ import annotations

DOCUMENTATION = r"""
module: containerd_config
short_description: Migrate and edit a containerd config.toml, whatever its version
description:
  - Migrates a containerd C(config.toml) to a config version (C(to)) or to what a containerd
    release line reads (C(containerd)), minimally and comment-preserving, and/or sets
    version-independent settings (the names of C(containerd-migrate --set), docs/settings.md).
  - Bad input, an edit the version cannot hold, or a setting the target cannot express (unless
    C(allow_loss)) fails the task with the message and leaves every file untouched.
  - Supports check mode and diff mode; a second run with the same arguments reports no change.
  - Secrets (registry passwords, auth strings, tokens) never appear in the returned data or diff.
requirements:
  - containerd-migrate (the C(migrator) library) installed for the Python that runs the module
options:
  path:
    description: The config file; it must exist.
    type: path
    required: true
  to:
    description: Config version to migrate to (1 to 4). Without C(to) and C(containerd) the file
      keeps its version.
    type: int
  containerd:
    description: Release line the node runs (1.6 to 2.3); the version it reads and its spellings.
    type: str
  settings:
    description: Setting name to value, e.g. C(systemd_cgroup), C(sandbox_image),
      C(runtime.nvidia.options.BinaryName). Strings are typed like C(--set) values.
    type: dict
    default: {}
  hosts_dir:
    description: Move registry mirrors and TLS settings into C(hosts_dir/<host>/hosts.toml) files
      and point C(config_path) there (absolute path).
    type: path
  overwrite_hosts:
    description: With C(hosts_dir), replace hosts.toml files whose content differs.
    type: bool
    default: false
  backup:
    description: Keep a timestamped copy of the config before changing it.
    type: bool
    default: false
  allow_loss:
    description: Drop, and report, what the target version cannot express instead of failing.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: containerd 2.x config, systemd cgroups
  containerd_config:
    path: /etc/containerd/config.toml
    to: 3
    settings:
      systemd_cgroup: true
      sandbox_image: registry.k8s.io/pause:3.10
    hosts_dir: /etc/containerd/certs.d
    backup: true
"""

RETURN = r"""
report:
  description: The migration report (--report-json's entry), secrets redacted.
  returned: success
  type: dict
source_version:
  description: Config version of the file as read.
  type: int
  returned: success
target_version:
  description: Config version written.
  type: int
  returned: success
hosts_files:
  description: hosts.toml files written (or, in check mode, that would be).
  type: list
  returned: success
backup_file:
  description: The backup of the config, when one was made.
  type: str
  returned: changed and backup
"""

import os  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def _scrubbed(data, secrets):
    from migrator.core.secrets import scrub
    if not secrets:
        return data
    if isinstance(data, str):
        return scrub(data, secrets)
    if isinstance(data, dict):
        return {k: _scrubbed(v, secrets) for k, v in data.items()}
    if isinstance(data, list):
        return [_scrubbed(v, secrets) for v in data]
    return data


def _secrets(text):
    import tomllib

    from migrator.core.secrets import secret_values, secret_values_in_text
    try:
        return secret_values(tomllib.loads(text))
    except Exception:  # not TOML: the migration refuses it; still scrub what looks secret
        return secret_values_in_text(text)


def _assignments(settings):
    from migrator.features.settings import parse_name, parse_value
    out = []
    for name, value in settings.items():
        if isinstance(value, str):  # a templated value arrives as text: type it like --set
            value = parse_value(parse_name(name), value)
        out.append((name, value))
    return out


def _plan(p, text):
    """(result, {hosts path: content}) without writing anything."""
    from migrator import ConfigError, load, migrate
    from migrator.features.hosts import migrate_registry
    from migrator.features.settings import apply_sets

    first = None
    if p["settings"]:
        try:
            assignments = _assignments(p["settings"])
        except ConfigError as exc:
            raise exc.with_file(p["path"]) from None
        first = apply_sets(text, assignments, to=p["to"],
                           containerd=p["containerd"], allow_loss=p["allow_loss"], file=p["path"])
    to = p["to"]
    if first is None and to is None and p["containerd"] is None:  # the file keeps its version
        to = load(text, file=p["path"]).version
    if first is None and p["hosts_dir"] is None:
        first = migrate(text, to=to, containerd=p["containerd"], allow_loss=p["allow_loss"],
                        file=p["path"])
    if p["hosts_dir"] is None:
        return first, {}
    result, hosts = migrate_registry(first.text if first else text,
                                     to=first.target_version if first else to,
                                     containerd=p["containerd"], hosts_dir=p["hosts_dir"],
                                     overwrite=p["overwrite_hosts"],
                                     allow_loss=p["allow_loss"], file=p["path"])
    if first is not None:  # one report for both passes, against the file as it was
        result.changes[:0] = first.changes
        result.findings[:0] = first.findings
        result.source_version, result.input_text = first.source_version, first.input_text
    return result, hosts


def _diff(before, after, name):
    from migrator.features.hosts import redact_toml
    return {"before": redact_toml(before), "after": redact_toml(after),
            "before_header": name, "after_header": name}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            to=dict(type="int"),
            containerd=dict(type="str"),
            settings=dict(type="dict", default={}),
            hosts_dir=dict(type="path"),
            overwrite_hosts=dict(type="bool", default=False),
            backup=dict(type="bool", default=False),
            allow_loss=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    try:
        from migrator import ConfigError, LossError, write_atomic
        from migrator.features.hosts import write_hosts
    except ImportError as exc:
        module.fail_json(msg=f"containerd_config needs the containerd-migrate library on the "
                             f"managed node (pip install containerd-migrate): {exc}")
    p = module.params
    path = p["path"]
    try:
        before_stat = os.stat(path)
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        module.fail_json(msg=f"{path}: {exc.strerror or exc}")
    text = data.decode("utf-8", "replace")
    secrets = _secrets(text)
    try:
        result, hosts = _plan(p, data)
    except LossError as exc:
        module.fail_json(msg=_scrubbed(str(exc), secrets), losses=_scrubbed(
            [str(x) for x in exc.losses], secrets))
    except ConfigError as exc:
        module.fail_json(msg=_scrubbed(str(exc), secrets))
    on_disk = {}
    for hp, content in hosts.items():
        try:
            with open(hp, encoding="utf-8") as fh:
                on_disk[hp] = fh.read()
        except OSError:
            on_disk[hp] = None
    hosts_changed = {hp: c for hp, c in hosts.items() if on_disk[hp] != c}
    out = result.text.encode("utf-8")
    changed = out != data or bool(hosts_changed)
    ret = dict(changed=changed, report=result.to_json(), source_version=result.source_version,
               target_version=result.target_version, hosts_files=sorted(map(str, hosts_changed)))
    if module._diff:
        diffs = [_diff(text, result.text, path)] if out != data else []
        diffs += [_diff(on_disk[hp] or "", c, str(hp)) for hp, c in sorted(hosts_changed.items())]
        ret["diff"] = diffs
    if changed and not module.check_mode:
        try:  # hosts files first: config_path never points at files that are not there
            write_hosts(hosts_changed, overwrite=p["overwrite_hosts"], hosts_dir=p["hosts_dir"])
            if out != data:
                if p["backup"]:
                    ret["backup_file"] = module.backup_local(path)
                write_atomic(path, out, expect=before_stat)
        except ConfigError as exc:
            module.fail_json(msg=_scrubbed(str(exc), secrets))
        except OSError as exc:
            module.fail_json(msg=f"{path}: cannot write: {exc.strerror or exc}")
    module.exit_json(**_scrubbed(ret, secrets))


if __name__ == "__main__":
    main()
