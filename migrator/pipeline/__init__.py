"""The pipeline: load -> plan -> emit -> verify -> account -> report, each stage once per file
(`migration.Migration`). Features add edits to the plan (`sets`) and hand over what they
already loaded; nothing runs the pipeline twice for one file.

    migrate(text, to=3)                   # one file, to a config version
    migrate(text, containerd="2.1")       # to what a release line reads, with its spellings
"""
from __future__ import annotations

from migrator.core import loading
from migrator.core.errors import InternalError
from migrator.core.results import MigrationResult
from migrator.pipeline.migration import Migration
from migrator.pipeline.target import UNSET, resolve_target, supported_versions

__all__ = ["migrate", "Migration", "UNSET", "InternalError", "resolve_target",
           "supported_versions"]


def migrate(text: str | bytes, to: int | None = None, *, containerd: str | None = None,
            allow_loss: bool = False, file: str = "<string>",
            sets: dict[tuple, object] | None = None,
            loaded: loading.Loaded | None = None) -> MigrationResult:
    """Migrate a config to a version (`to`) or to what a containerd release line reads.

    `sets` maps key paths of the target version to values to write there (UNSET removes),
    so one pass can edit and migrate; untouched lines stay as they are. `loaded`: `text`
    already loaded (a feature that read it to plan its edits), so it is parsed once."""
    return Migration(text, to, containerd=containerd, allow_loss=allow_loss, file=file,
                     sets=sets, loaded=loaded).run()
