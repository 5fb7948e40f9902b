"""Version-independent setting names: edit a containerd config without knowing its version.

    cfg = load(text)                                     # version 1, 2, 3 or 4
    cfg.runtime("nvidia").runtime_type = "io.containerd.runc.v2"
    cfg.runtime("nvidia").options["BinaryName"] = "/usr/bin/nvidia-container-runtime"
    cfg.sandbox_image = "registry.k8s.io/pause:3.10"
    text = cfg.dump()                                    # same version, comments kept

    apply_sets(text, ["sandbox_image=registry.k8s.io/pause:3.10"], to=3)   # edit + migrate

Each name (docs/settings.md) is ONE key path written in one config version (`Setting.version`,
mostly 2). Where it lives in the other versions is not written down here: it is computed with the
rules the migrator itself uses (`engine.Mapper(rules.chain(a, b))`), including their value
transforms (`bin_dir` -> `bin_dirs`) and copies (a runtime's snapshotter also goes to the image
plugin's `runtime_platforms`). The edit itself is `migrate(text, to=..., sets=...)`: one verified
pass that keeps comments, key order and every untouched byte.

Before anything is written, each value is typed against the schema of the version that holds it
and the edited tree is validated against the schema of the file's version (or of the containerd
release given); a setting the version cannot express is a ConfigError (exit 2)."""
from migrator.features.settings.config import Config, Options, Runtime, load
from migrator.features.settings.edits import (
    apply_sets,
    edit_text,
    explain,
    parse_edits,
    plan_edits,
)
from migrator.features.settings.names import (
    RUNC,
    RUNC_TYPE,
    RUNTIME_FIELDS,
    SETTINGS,
    SHORTHANDS,
    Key,
    Setting,
    Spelling,
    names,
    parse_name,
    path_in,
    runtime_key,
    spellings,
)
from migrator.features.settings.resolve import Edit, resolve
from migrator.features.settings.values import (
    parse_assignment,
    parse_value,
    plugin_entries,
    read,
    value_schema,
)
from migrator.pipeline import UNSET

__all__ = ["load", "Config", "Runtime", "Options", "apply_sets", "edit_text",
           "parse_assignment", "parse_name", "parse_value", "path_in", "spellings", "read",
           "resolve", "plugin_entries", "SETTINGS", "SHORTHANDS", "names", "UNSET", "Setting",
           "Key", "Spelling", "RUNTIME_FIELDS", "RUNC", "RUNC_TYPE", "runtime_key",
           "value_schema", "Edit", "parse_edits", "plan_edits", "explain"]
