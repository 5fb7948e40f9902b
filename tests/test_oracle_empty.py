"""An empty or comment-only config is containerd's defaults (issue 15): every release line reads
our migrated file exactly as it reads the original, with no new warning (marker `oracle`)."""
from __future__ import annotations

import pytest

import migrator

from .judging import judge

pytestmark = pytest.mark.oracle

INPUTS = {"empty": "", "comments": "# managed by the node image\n# defaults only\n",
          "blank-lines": "\n\n"}
# (target version, the release lines that read it natively)
TARGETS = [(2, "1.6"), (2, "1.7"), (3, "2.0"), (3, "2.1"), (3, "2.2"), (4, "2.3")]


@pytest.mark.parametrize("name", sorted(INPUTS))
@pytest.mark.parametrize("to,line", TARGETS, ids=[f"v{t}-{line}" for t, line in TARGETS])
def test_containerd_reads_the_migrated_empty_file_as_the_original(name: str, to: int,
                                                                  line: str) -> None:
    text = INPUTS[name]
    result = migrator.migrate(text, to=to)
    assert result.text == text + f"version = {to}\n"
    assert [c.kind for c in result.changes] == ["header"]
    judge(line, text, result.text, "up", result=result)
