"""Property tests over generated configs of every version the tool reads.

CI runs a fixed, derandomized number of examples (profile "ci", 300); a long run is
`HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py` (10,000 examples).
"""
from __future__ import annotations

import os
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import migrator

settings.register_profile("ci", max_examples=300, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CRI = '"io.containerd.grpc.v1.cri"'
names = st.sampled_from(["runc", "kata", "nvidia", "gvisor", "crun"])
paths = st.sampled_from(["/opt/cni/bin", "/usr/lib/cni", "/etc/cni/net.d", "/x/y"])
images = st.sampled_from(["registry.k8s.io/pause:3.9", "example.com/pause:3.10"])
strings = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-./:", min_size=1,
                  max_size=12)

CRI_SCALARS = {
    "sandbox_image": images,
    "enable_selinux": st.booleans(),
    "max_container_log_line_size": st.integers(-1, 65536),
    "enable_unprivileged_ports": st.booleans(),
    "stream_server_port": st.sampled_from(["0", "10010"]),
    "max_concurrent_downloads": st.integers(1, 10),
    "disable_tcp_service": st.booleans(),
    "systemd_cgroup": st.booleans(),
    "stats_collect_period": st.integers(1, 60),
}


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def v2_config(draw) -> str:
    """A version 2 (or, with short names, version 1) config in one of several spellings."""
    v1 = draw(st.booleans())
    cri = "cri" if v1 else CRI
    lines = [] if v1 else ["version = 2"]
    if draw(st.booleans()):
        lines.append("disabled_plugins = " + toml_value(draw(st.lists(
            st.sampled_from(["cri", "aufs", "zfs"] if v1 else [
                "io.containerd.grpc.v1.cri", "io.containerd.internal.v1.restart",
                "io.containerd.snapshotter.v1.zfs"]), max_size=3, unique=True))))
    chosen = draw(st.dictionaries(st.sampled_from(sorted(CRI_SCALARS)), st.none(), max_size=6))
    lines.append(f"[plugins.{cri}]")
    for key in chosen:
        comment = "  # " + key if draw(st.booleans()) else ""
        lines.append(f"  {key} = {toml_value(draw(CRI_SCALARS[key]))}{comment}")
    if draw(st.booleans()):
        lines.append(f"  containerd.snapshotter = {toml_value(draw(st.sampled_from(['overlayfs', 'native'])))}")
    runtimes = draw(st.lists(names, max_size=3, unique=True))
    for name in runtimes:
        lines.append(f"[plugins.{cri}.containerd.runtimes.{name}]")
        lines.append('  runtime_type = "io.containerd.runc.v2"')
        if draw(st.booleans()):
            lines.append(f"  snapshotter = {toml_value(draw(st.sampled_from(['overlayfs', 'native', 'devmapper'])))}")
        if draw(st.booleans()):
            lines.append(f"  sandbox_mode = {toml_value('podsandbox')}")
        style = draw(st.sampled_from(["table", "inline", "none"]))
        if style == "table":
            lines.append(f"  [plugins.{cri}.containerd.runtimes.{name}.options]")
            lines.append(f"    SystemdCgroup = {toml_value(draw(st.booleans()))}")
        elif style == "inline":
            lines.append(f"  options = {{ BinaryName = {toml_value(draw(strings))} }}")
    if draw(st.booleans()):
        lines.append(f"[plugins.{cri}.cni]")
        lines.append(f"  bin_dir = {toml_value(draw(paths))}")
        lines.append(f"  conf_dir = {toml_value(draw(paths))}")
    if draw(st.booleans()):
        lines.append(f"[plugins.{cri}.registry]")
        lines.append(f"  config_path = {toml_value(draw(paths))}")
    if draw(st.booleans()):
        lines.append("[plugins." + ("restart" if v1 else '"io.containerd.internal.v1.restart"') + "]")
        lines.append('  interval = "10s"')
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + newline


@given(v2_config())
def test_upgrade_is_verified_idempotent_and_keeps_comments(text: str) -> None:
    result = migrator.migrate(text, to=3)
    assert tomllib.loads(result.text)["version"] == 3
    again = migrator.migrate(result.text, to=3)
    assert again.text == result.text
    kept = [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]
    for comment in kept:
        assert comment in result.text


@given(v2_config())
def test_lossless_downgrade_upgrades_back_to_the_same_meaning(text: str) -> None:
    v3 = migrator.migrate(text, to=3)
    try:
        v2 = migrator.migrate(v3.text, to=2)
    except migrator.LossError:
        return  # not lossless: nothing to compare
    if any(c.kind == "dropped" for c in v2.changes):
        return
    back = migrator.migrate(v2.text, to=3)
    assert tomllib.loads(back.text) == tomllib.loads(v3.text)
