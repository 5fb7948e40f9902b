"""A config and the files it imports, migrated as one set, each kept in its own file.

    from migrator.features.imports import migrate_set
    result = migrate_set(Path("/etc/containerd/config.toml"), to=3)
    result.texts            # {path: migrated text}, in the order containerd loads them
    result.findings         # about the set: missing files, cycles, mixed versions, merging
    write_set(result)       # write the files that changed, atomically

    migrate_set({"config.toml": root_text, "conf.d/10-a.toml": a_text}, to=3)  # no disk

`imports` is followed the way containerd's `LoadConfig` does it (facts §1.4, §1.5;
cmd/containerd/server/config/config.go@v2.1.0, services/server/config/config.go@v1.7.34):
breadth first from the root, each path loaded once; an entry is cleaned and, when relative,
joined to the importing file's directory; an entry holding `*` is a glob (Go's filepath.Glob:
sorted per directory, `*` matches dot files too, a pattern without a match adds nothing), any
other entry must exist (containerd refuses to start otherwise).

Every file is migrated to the same version with `migrate()`. What the set means can still
change, because containerd merges the files:

* 1.x replaces a whole `plugins.<name>` table with the one of a later file;
* 2.0+ merges plugin tables key by key (a later `false`, `0` or `[]` wins; arrays are replaced);
* both append top-level lists, replace `timeouts`, `proxy_plugins`, `stream_processors` per key,
  and let a later non-empty top-level value win.

`migrate_set` merges the original set the way the source release did, migrates the result, and
compares it with the migrated files merged the way the target release will: any difference is a
finding naming the key paths (never values). Mixed versions are reported too: a drop-in above the
root's version makes containerd 2.0-2.2 skip the root's migration (its CRI keys are lost, E15)
and 2.3.0-2.3.4 refuse to start."""
from migrator.features.imports.files import PER_KEY, _Disk, _Memory, resolve_imports
from migrator.features.imports.merge import merge_trees
from migrator.features.imports.sets import SetResult, migrate_set
from migrator.features.imports.write import write_set

__all__ = ["migrate_set", "write_set", "SetResult", "resolve_imports", "merge_trees", "_Memory",
           "_Disk", "PER_KEY"]
