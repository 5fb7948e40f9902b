"""CRI registry `mirrors` and `configs.*.tls` -> `hosts.toml` files under `config_path`.

    from migrator.features.hosts import migrate_registry, write_hosts
    result, files = migrate_registry(text, to=3, hosts_dir="/etc/containerd/certs.d")
    result.text          # the config: config_path set, mirrors and configs.*.tls removed
    files                # {Path(".../docker.io/hosts.toml"): "...", ...}; nothing written yet
    write_hosts(files)   # atomically; an existing different file is an error unless overwrite

containerd never wrote hosts.toml files for the CRI `mirrors`: it built the host list in memory
on every pull (`registryEndpoints`/`registryHosts`, pkg/cri/server/image_pull.go@v1.7.34). This
module writes the files that give the same list (facts §6.3, "Equivalent hosts.toml", E34/E35):

* one directory per registry `H` of `mirrors` (and per host `X` of `configs.X.tls`):
  `name_port_` for `name:port`, `H` otherwise, `_default` for `"*"`;
* each endpoint as a `[host."<url>"]` table in list order with
  `capabilities = ["pull", "resolve"]`; an endpoint without a scheme gets the one containerd
  gave it (`http` for localhost/loopback, else `https`); a path not ending in `/v2` gets
  `override_path = true`;
* `server` = the upstream containerd appended (`https://registry-1.docker.io` for docker.io,
  `http://` for a localhost registry), or, when an endpoint's host is the registry itself
  (containerd then appended nothing), the last endpoint with top-level capabilities;
  `_default` has no `server`;
* `configs.X.tls` on every entry whose host is `X` (TLS was keyed by the host contacted):
  `ca_file` -> `ca`, `cert_file` + `key_file` -> `client = [[cert, key]]`,
  `insecure_skip_verify = true` -> `skip_verify = true`.

Kept in the config: `configs.X.auth` and `auths` (hosts.toml has no credentials; a finding says
so, `allow_loss` removes them) and `registry.headers` (not deprecated; containerd sends them on
every registry request with or without `config_path`, internal/cri/server/images/
image_pull.go@HEAD, so moving them into hosts.toml would only send them twice).

Secrets never reach a message: findings and errors name key paths and host names only, and
`redact_toml` blanks secret values in a TOML text for diffs."""
from migrator.features.hosts.disk import write_hosts
from migrator.features.hosts.migrate import migrate_registry
from migrator.features.hosts.names import (
    CAPABILITIES,
    DEFAULT_DIR,
    HOSTS_FILE,
    REGISTRY,
    RELEASE,
    RULE,
    SOURCE,
    TLS_KEYS,
    check_host,
    default_host,
    default_scheme,
    host_directory,
    is_localhost,
)
from migrator.features.hosts.plan import (
    Entry,
    HostsFile,
    RegistryPlan,
    plan_hosts,
    posix_clean,
)
from migrator.features.hosts.redact import redact_toml

__all__ = ["HOSTS_FILE", "CAPABILITIES", "DEFAULT_DIR", "RULE", "RELEASE", "SOURCE", "REGISTRY",
           "TLS_KEYS", "check_host", "host_directory", "is_localhost", "default_scheme",
           "default_host", "Entry", "HostsFile", "RegistryPlan", "posix_clean", "plan_hosts",
           "migrate_registry", "write_hosts", "redact_toml"]
