"""containerd judges the migration-semantics cases of the engine (marker `oracle`): runtime
option names in another case, URI plugin tables in a versionless file, a version 3 file that
still holds version 2 CRI keys, and references to plugins an older release does not have.

Every allowed difference here is written as data next to the experiment that shows it; none is
read from the rules or the report under test.
"""
from __future__ import annotations

import tomllib

import pytest

import migrator
from tests import oracle

from .helpers import REPO

pytestmark = pytest.mark.oracle

RT = "io.containerd.cri.v1.runtime"
CRI = "io.containerd.grpc.v1.cri"
IMG = "io.containerd.cri.v1.images"


def _dump(line: str, text: str) -> oracle.Dump:
    oracle.require_containerd(line)
    d = oracle.dump(line, text)
    assert d.returncode == 0 and not d.errors, d.stderr
    return d


def _get(tree: dict, *path: str) -> object:
    for key in path:
        tree = tree[key]
    return tree


KUBESPRAY_CASE = (
    'version = 2\n'
    f'[plugins."{CRI}".containerd.runtimes.runc]\n'
    '  runtime_type = "io.containerd.runc.v2"\n'
    f'[plugins."{CRI}".containerd.runtimes.runc.options]\n'
    '  systemdCgroup = true\n'
    '  binaryName = "/usr/local/bin/runc"\n')


def test_option_names_in_another_case_get_the_listed_spelling() -> None:
    ours = migrator.migrate(KUBESPRAY_CASE, to=3)
    assert {c.to_path.rsplit(".", 1)[1] for c in ours.changes if c.rule == "option-names/options"} \
        == {"SystemdCgroup", "BinaryName"}
    # 1.7 keeps the user's options map as written (it replaces the default map) and its shim
    # decoder accepts a lower-case first letter: the original meant SystemdCgroup = true
    before17 = _get(_dump("1.7", KUBESPRAY_CASE).config, "plugins", CRI, "containerd",
                    "runtimes", "runc", "options")
    assert before17 == {"systemdCgroup": True, "binaryName": "/usr/local/bin/runc"}
    for line in ("2.1", "2.3"):
        theirs = _dump(line, KUBESPRAY_CASE)
        after = _dump(line, ours.text)
        path = ("plugins", RT, "containerd", "runtimes", "runc", "options")
        # experiment (2.1.9, 2.3.4 config dump): the original's options hold both spellings,
        # the default next to the file's; ours hold one, with the file's value
        old, new = _get(theirs.config, *path), _get(after.config, *path)
        assert (old["SystemdCgroup"], old["systemdCgroup"]) == (False, True)
        assert (old["BinaryName"], old["binaryName"]) == ("", "/usr/local/bin/runc")
        assert new["SystemdCgroup"] is True and new["BinaryName"] == "/usr/local/bin/runc"
        assert "systemdCgroup" not in new and "binaryName" not in new
        allowed = [path + (k,) for k in ("SystemdCgroup", "systemdCgroup", "BinaryName",
                                         "binaryName")]
        assert oracle.compare(theirs.config, after.config, allowed=allowed) == []
        assert oracle.new_warnings(theirs, after) == []


MIXED = (REPO / "golden" / "49-v3-header-over-v2-cri-keys" / "input.toml").read_text()


def test_version_2_keys_under_a_version_3_header_mean_what_they_meant_in_version_2() -> None:
    ours = migrator.migrate(MIXED, to=3)
    assert ours.text != MIXED
    assert {f.path for f in ours.findings if f.code == "version-mix"} == {
        f'plugins."{CRI}".sandbox_image', f'plugins."{CRI}".containerd'}
    options = ("plugins", RT, "containerd", "runtimes", "runc", "options", "SystemdCgroup")
    # experiment (2.1.9 config dump): 2.1 warns about the version 2 keys and ignores them
    theirs = _dump("2.1", MIXED)
    assert _get(theirs.config, *options) is False
    assert any("key=sandbox_image" in w for w in theirs.warnings)
    after = _dump("2.1", ours.text)
    assert _get(after.config, *options) is True and after.warnings == []
    # what the author meant: the same keys under a version 2 header, as 2.1 migrates them
    meant = _dump("2.1", MIXED.replace("version = 3", "version = 2", 1))
    assert oracle.compare(meant.config, after.config) == []
    # 2.3 runs the CRI migration again on a version 3 file (facts §4.3) and agrees with ours
    assert oracle.compare(_dump("2.3", MIXED).config, _dump("2.3", ours.text).config) == []



EROFS = (REPO / "golden" / "50-v3-erofs-down-allow-loss" / "input.toml").read_text()


def test_a_dropped_plugin_leaves_no_setting_that_names_it() -> None:
    # 2.1 has the erofs differ and snapshotter and reads the settings that name them
    theirs = _dump("2.1", EROFS).config
    assert "io.containerd.differ.v1.erofs" in theirs["plugins"]
    assert theirs["plugins"]["io.containerd.service.v1.diff-service"]["default"] == [
        "erofs", "walking"]
    # 1.7 has neither plugin (its default config lists no erofs table), so after the
    # downgrade nothing may name erofs: the diff service and CRI would fail to load them
    assert "erofs" not in str(_dump("1.7", "version = 2\n").config)
    ours = migrator.migrate(EROFS, to=2, allow_loss=True)
    after = _dump("1.7", ours.text)
    assert after.warnings == []
    assert "erofs" not in ours.text.split("\n", 1)[1].replace("# erofs first", "")
    assert after.config["plugins"]["io.containerd.service.v1.diff-service"]["default"] == [
        "walking"]
    assert after.config["required_plugins"] == [CRI]
    assert after.config["plugins"][CRI]["containerd"]["snapshotter"] == "overlayfs"  # default
    with pytest.raises(migrator.LossError):
        migrator.migrate(EROFS, to=2)


def test_version_2_keys_under_a_version_4_header() -> None:
    text = MIXED.replace("version = 3", "version = 4", 1)
    ours = migrator.migrate(text, to=4)
    options = ("plugins", RT, "containerd", "runtimes", "runc", "options", "SystemdCgroup")
    # experiment (2.3.4 config dump): a version 4 file's version 2 CRI keys are ignored,
    # with an unknown-key warning each; a version 3 file's are migrated (facts §4.3)
    theirs = _dump("2.3", text)
    assert _get(theirs.config, *options) is False
    assert any("key=sandbox_image" in w for w in theirs.warnings)
    after = _dump("2.3", ours.text)
    assert after.warnings == []
    assert oracle.compare(_dump("2.3", MIXED).config, after.config) == []


V4_SERVERS = ('version = 4\n[grpc]\n  address = "/run/x.sock"\n  max_recv_message_size = 1234\n'
              '[ttrpc]\n  address = "/run/t.sock"\n[debug]\n  address = "/run/d.sock"\n'
              '  level = "debug"\n[metrics]\n  address = "127.0.0.1:1338"\n'
              '  grpc_histogram = true\n')


def test_version_3_server_tables_under_a_version_4_header() -> None:
    ours = migrator.migrate(V4_SERVERS, to=4)
    grpc = ("plugins", "io.containerd.server.v1.grpc", "address")
    # experiment (2.3.4 config dump): decoded, never used, no warning (facts B13)
    theirs = _dump("2.3", V4_SERVERS)
    assert _get(theirs.config, *grpc) == "/run/containerd/containerd.sock"
    assert theirs.warnings == []
    after = _dump("2.3", ours.text)
    assert _get(after.config, *grpc) == "/run/x.sock" and after.warnings == []
    # what the author meant: the same tables in a version 3 file, as 2.3 migrates them
    meant = _dump("2.3", V4_SERVERS.replace("version = 4", "version = 3"))
    assert oracle.compare(meant.config, after.config) == []


def _mixed_inputs() -> list:
    from .helpers import shared_path
    corpus = shared_path("corpus", "real")
    files = sorted((REPO / "golden").glob("*/input.toml")) + (
        sorted(corpus.glob("*.toml")) if corpus is not None else [])
    out = []
    for path in files:
        text = path.read_text(encoding="utf-8-sig")
        version = tomllib.loads(text).get("version", 1) if text.strip() else 1
        if version >= 3:
            found = [f for f in migrator.migrate(text, to=version).findings
                     if f.code == "version-mix"]
            if found:
                out.append(pytest.param(path, version, id=path.parent.name
                                        if path.name == "input.toml" else path.name))
    return out


@pytest.mark.parametrize("path,version", _mixed_inputs())
def test_real_files_with_older_keys_read_as_their_authors_meant(path, version) -> None:
    """containerd 2.3 reads our output as it reads the same file under the previous version's
    header (it then migrates the older keys itself, facts §4.3), for every such file we know."""
    text = path.read_text(encoding="utf-8-sig")
    if any("*" not in i and not (path.parent / i).exists()
           for i in tomllib.loads(text).get("imports", [])):
        text = "\n".join(line for line in text.splitlines() if not line.startswith("imports"))
    ours = migrator.migrate(text, to=version)
    meant = text.replace(f"version = {version}", f"version = {version - 1}", 1)
    assert oracle.compare(_dump("2.3", meant).config, _dump("2.3", ours.text).config) == []
