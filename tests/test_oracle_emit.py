"""Spellings that once broke the emitter (issue 15): an empty or comments-only file, a last line
without its line ending (LF, CRLF, a comment), an empty table last in the file, inline tables.
containerd judges each migration on the target's release line: its dump of the original and of
our output agree, and our output brings no new warning."""
from __future__ import annotations

import pytest

import migrator

from .helpers import REPO
from .judging import judge

LINE = {1: "1.7", 2: "1.7", 3: "2.1", 4: "2.3"}   # a release that reads the target natively

CRI = '"io.containerd.grpc.v1.cri"'
INPUTS = {
    "empty": "",
    "blank-crlf": "\r\n \t\r\n",
    "comments-no-newline": "# managed by puppet\n\n# nothing customised",
    "v2-no-newline": f'version = 2\n[plugins.{CRI}]\n  sandbox_image = "k8s.gcr.io/pause:3.9"',
    "v2-crlf-no-newline": f'version = 2\r\n[plugins.{CRI}.containerd]\r\n  snapshotter = "zfs"',
    "v2-comment-last-no-newline": f'version = 2\n[plugins.{CRI}]\n  enable_cdi = true\n# end',
    "v2-empty-table-last": f'version = 2\n[plugins.{CRI}]\n',
    "v2-empty-inline": f'version = 2\n[plugins.{CRI}.containerd.runtimes]\n'
                       '  kata = {runtime_type = "io.containerd.kata.v2", options = {}}',
    "v3-grpc-no-newline": 'version = 3\n[grpc]\n  address = "/run/k8s/containerd.sock"',
    "v3-inline-merged": 'version = 3\n[plugins]\n  "io.containerd.cri.v1.runtime" = '
                        '{enable_unprivileged_ports = true}\n'
                        '[plugins."io.containerd.cri.v1.images"]\n  max_concurrent_downloads = 10',
}
GOLDEN = ["52-v3-no-final-newline-to-v4", "53-v1-comments-only",
          "54-v2-crlf-comment-last-no-newline"]
INPUTS.update({name: (REPO / "golden" / name / "input.toml").read_bytes().decode()
               for name in GOLDEN})


def _source(text: str) -> int:
    return migrator.migrate(text, to=4).source_version


# one binary must read both files natively: 2.x loses a version 1 file's CRI settings
# (facts B3) and 1.x does not know versions 3 and 4, so 1 <-> 2 on 1.7, 2+ -> 3+ on the target's
CASES = [(name, to) for name, text in INPUTS.items() for to in (1, 2, 3, 4)
         if (_source(text) <= 2 and to <= 2) or (_source(text) >= 2 and to >= 3)]


@pytest.mark.oracle
@pytest.mark.parametrize("name,to", CASES, ids=[f"{n}-to-v{t}" for n, t in CASES])
def test_containerd_reads_our_output_as_it_read_the_original(name: str, to: int) -> None:
    text = INPUTS[name]
    try:
        result = migrator.migrate(text, to=to, file=name)
    except migrator.LossError:
        pytest.skip("the target cannot express it (a loss, reported; not an emitter case)")
    source = result.source_version
    # 1.7's deprecation notice for a version 1 file is containerd's, not a new problem
    judge(LINE[to], text, result.text, "up" if to >= source else "down", result=result,
          expected="version `1` has been deprecated" if to == 1 else None)
