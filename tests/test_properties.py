"""Property tests over generated configs of every version the tool reads.

CI runs a fixed, derandomized number of examples per test (profile "ci", 300: the same examples
on every run, about a minute for the file); a long run, with fresh random examples each time, is

    HYPOTHESIS_PROFILE=long python -m pytest -q -p no:cacheprovider tests/test_properties.py

(10,000 examples per test; roughly 30 minutes). The properties, for configs of every version
(1-4) migrated to every version:

- nothing but LossError is ever raised (the pipeline itself proves that the output parses, means
  what the rules planned, passes the target schema, and accounts for every input leaf);
- the output is at the target version and migrating it again changes nothing (idempotent);
- own-line comments survive;
- up then down gives back what the file meant, wherever neither step lost or dropped anything;
- how a config is spelled (quoting, dotted keys, inline tables, comments, whitespace, integer
  bases, line endings) does not change what its migration means.

`meaning(version)` draws what a config says (a tree); `spell(tree)` writes it as hostile-but-valid
TOML. The spellings the emitter does not handle yet (inline tables for whole plugin tables, empty
inline tables, no final newline) are kept out of the CI properties and exercised by
`test_every_spelling_known_emitter_bugs`, an expected failure until emit.py handles them.
"""
from __future__ import annotations

import json
import os
import re
import tomllib

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import migrator

settings.register_profile("ci", max_examples=300, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
settings.register_profile("long", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.data_too_large])
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


# --- every version, spelled every way ---------------------------------------------------------

CRI_URI = "io.containerd.grpc.v1.cri"
IMAGES = "io.containerd.cri.v1.images"
RUNTIME = "io.containerd.cri.v1.runtime"
BARE = re.compile(r"[A-Za-z0-9_-]+")
runtime_names = st.sampled_from(["runc", "kata", "nvidia", "gvisor", "crun", "runsc-1",
                                 "my runtime", "rünc", "a.b"])
odd_paths = st.sampled_from(["/opt/cni/bin", "/usr/lib/cni", "/etc/cni/net.d", "/x/y",
                             "C:\\cni", "/a b/c'd", '/q"uote'])
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-./: '\"\\é☃#=[]{}", min_size=1,
                max_size=12)
comment_text = st.text(alphabet="abc XYZ é☃#\"'=[]{}.\\", max_size=15)


def _put(tree: dict, path: tuple, value) -> None:
    cur = tree
    for k in path[:-1]:
        cur = cur.setdefault(k, {})
    cur[path[-1]] = value


@st.composite
def runtime_tables(draw, version: int) -> dict:
    out = {}
    for name in draw(st.lists(runtime_names, max_size=3, unique=True)):
        rt: dict = {"runtime_type": draw(st.sampled_from(["io.containerd.runc.v2",
                                                          "io.containerd.kata.v2"]))}
        if draw(st.booleans()):
            rt["snapshotter"] = draw(st.sampled_from(["overlayfs", "native", "devmapper"]))
        if draw(st.booleans()):
            rt["sandboxer" if version >= 3 else "sandbox_mode"] = "podsandbox"
        if draw(st.booleans()):
            rt["options"] = draw(st.fixed_dictionaries({}, optional={
                "SystemdCgroup": st.booleans(), "BinaryName": words,
                "NoPivotRoot": st.booleans()}))
        out[name] = rt
    return out


@st.composite
def meaning(draw, version: int) -> dict:
    """What a config of `version` says, as the tree tomllib would read (see `spell`)."""
    t: dict = {}
    if version >= 2 or draw(st.booleans()):
        t["version"] = version
    if draw(st.booleans()):
        t["root"] = draw(st.sampled_from(["/var/lib/containerd", "/data/containerd"]))
    if draw(st.booleans()):
        t["oom_score"] = draw(st.integers(-999, 0))
    if draw(st.booleans()):
        pool = {1: ["cri", "aufs", "zfs", "restart"],
                2: [CRI_URI, "io.containerd.internal.v1.restart",
                    "io.containerd.snapshotter.v1.zfs"],
                3: [CRI_URI, "io.containerd.monitor.container.v1.restart",
                    "io.containerd.snapshotter.v1.zfs"],
                4: [CRI_URI, "io.containerd.snapshotter.v1.zfs"]}[version]
        t["disabled_plugins"] = draw(st.lists(st.sampled_from(pool), max_size=3, unique=True))
    if version <= 2:
        cri = ("plugins", "cri" if version == 1 else CRI_URI)
        for key in sorted(CRI_SCALARS):
            if draw(st.integers(0, 2)) == 0:
                _put(t, cri + (key,), draw(CRI_SCALARS[key]))
        if draw(st.booleans()):
            _put(t, cri + ("containerd", "snapshotter"),
                 draw(st.sampled_from(["overlayfs", "native"])))
        if rts := draw(runtime_tables(version)):
            _put(t, cri + ("containerd", "runtimes"), rts)
        if draw(st.booleans()):
            _put(t, cri + ("cni", "bin_dir"), draw(odd_paths))
            _put(t, cri + ("cni", "conf_dir"), draw(odd_paths))
        if draw(st.booleans()):
            _put(t, cri + ("registry", "config_path"), draw(odd_paths))
        if draw(st.booleans()):
            restart = "restart" if version == 1 else "io.containerd.internal.v1.restart"
            _put(t, ("plugins", restart, "interval"), "10s")
        return t
    img, rt = ("plugins", IMAGES), ("plugins", RUNTIME)
    for key, strat in (("snapshotter", st.sampled_from(["overlayfs", "native"])),
                       ("max_concurrent_downloads", st.integers(1, 10)),
                       ("image_pull_progress_timeout", st.sampled_from(["5m0s", "1m"]))):
        if draw(st.booleans()):
            _put(t, img + (key,), draw(strat))
    if draw(st.booleans()):
        _put(t, img + ("pinned_images", "sandbox"), draw(images))
    if draw(st.booleans()):
        _put(t, img + ("registry", "config_path"), draw(odd_paths))
    for key, strat in (("enable_selinux", st.booleans()),
                       ("max_container_log_line_size", st.integers(-1, 65536)),
                       ("enable_unprivileged_ports", st.booleans())):
        if draw(st.booleans()):
            _put(t, rt + (key,), draw(strat))
    if rts := draw(runtime_tables(version)):
        _put(t, rt + ("containerd", "runtimes"), rts)
    if draw(st.booleans()):
        _put(t, rt + ("cni", "bin_dirs"), draw(st.lists(odd_paths, min_size=1, max_size=2,
                                                          unique=True)))
        _put(t, rt + ("cni", "conf_dir"), draw(odd_paths))
    if draw(st.booleans()):
        _put(t, ("plugins", CRI_URI, "stream_server_port"), draw(st.sampled_from(["0", "10010"])))
    if draw(st.booleans()):
        _put(t, ("plugins", CRI_URI, "disable_tcp_service"), draw(st.booleans()))
    server = (lambda name: (name,)) if version == 3 else (
        lambda name: ("plugins", f"io.containerd.server.v1.{name}"))
    if draw(st.booleans()):
        _put(t, server("grpc") + ("address",), "/run/containerd/containerd.sock")
    if draw(st.booleans()):
        _put(t, server("grpc") + ("uid",), draw(st.integers(0, 1000)))
        _put(t, server("grpc") + ("gid",), draw(st.integers(0, 1000)))
    if draw(st.booleans()):
        _put(t, server("ttrpc") + ("address",), "/run/containerd/containerd.sock.ttrpc")
    if draw(st.booleans()):
        _put(t, server("metrics") + ("address",), "127.0.0.1:1338")
    if draw(st.booleans()):
        _put(t, ("debug", "level"), draw(st.sampled_from(["info", "debug"])))
    return t


@st.composite
def key_part(draw, name: str) -> str:
    style = draw(st.sampled_from(["bare", "bare", "basic", "literal"]))
    if style == "bare" and BARE.fullmatch(name):
        return name
    if style == "literal" and "'" not in name:
        return f"'{name}'"
    return json.dumps(name, ensure_ascii=draw(st.booleans()))


@st.composite
def dotted_key(draw, path: tuple) -> str:
    sep = draw(st.sampled_from([".", ".", " . ", "\t.", ". "]))
    return sep.join(draw(key_part(p)) for p in path)


@st.composite
def scalar(draw, v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        forms = [str(v)]
        if v >= 0:
            forms += [f"+{v}", hex(v), oct(v), bin(v)]
            if v >= 1000:
                forms.append(f"{str(v)[:-3]}_{str(v)[-3:]}")
        return draw(st.sampled_from(forms))
    forms = [json.dumps(v), json.dumps(v, ensure_ascii=False),
             '"""' + v.replace("\\", "\\\\").replace('"', '\\"') + '"""']
    if "'" not in v:
        forms += [f"'{v}'", f"'''{v}'''"]
    return draw(st.sampled_from(forms))


@st.composite
def value_text(draw, v, inline_ok: bool = True) -> str:
    if isinstance(v, list):
        items = [draw(value_text(x)) for x in v]
        if draw(st.booleans()) or not items:
            return "[" + ", ".join(items) + "]"
        return "[\n" + "".join(
            f"  {x},{draw(st.sampled_from(['', ' # ' + draw(comment_text)]))}\n"
            for x in items) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{draw(dotted_key((k,)))} = {draw(value_text(x))}"
                               for k, x in v.items()) + "}"
    return draw(scalar(v))


@st.composite
def spell(draw, tree: dict) -> str:
    """`tree` written as TOML in a style drawn at random: headers, implicit super-tables,
    dotted keys (with spaces and tabs around the dots), inline tables, every kind of quoting
    and string, integers in every base, comments on their own lines, after values and headers
    and inside arrays, odd indentation and spacing, LF or CRLF."""
    lines: list[str] = []

    def comment() -> None:
        if draw(st.integers(0, 4)) == 0:
            lines.append(draw(st.sampled_from(["", "  ", "\t"])) + "#" + draw(comment_text))

    def assign(path: tuple, v, indent: str) -> None:
        comment()
        eq = draw(st.sampled_from([" = ", "=", "  =\t", " ="]))
        tail = draw(st.sampled_from(["", "", " # " + draw(comment_text), "\t#"]))
        lines.append(f"{indent}{draw(dotted_key(path))}{eq}{draw(value_text(v))}{tail}")

    def flat(table: dict, base: tuple, prefix: tuple, indent: str, dotted: bool) -> list:
        """Write `table`'s values (and sub-tables spelled dotted or inline) under the current
        header; return the sub-tables that get headers of their own."""
        later = []
        for k, v in table.items():
            if not isinstance(v, dict):
                assign(prefix + (k,), v, indent)
                continue
            modes = ["dotted", "inline"] if dotted else ["header", "header", "dotted", "inline"]
            mode = draw(st.sampled_from(modes))
            if mode == "inline" or (mode == "dotted" and not v):
                assign(prefix + (k,), v, indent)
            elif mode == "dotted":
                later += flat(v, base, prefix + (k,), indent, True)
            else:
                later.append((prefix + (k,), v))
        return later

    def section(path: tuple, table: dict) -> None:
        own = any(not isinstance(v, dict) for v in table.values()) or not table
        if own or draw(st.booleans()):  # else an implicit super-table: no header at all
            comment()
            tail = draw(st.sampled_from(["", "  # " + draw(comment_text)]))
            pad = draw(st.sampled_from(["", " "]))
            lines.append(f"[{pad}{draw(dotted_key(path))}{pad}]{tail}")
            pending = flat(table, path, (), draw(st.sampled_from(["", "  ", "\t"])), False)
        else:
            pending = [((k,), v) for k, v in table.items()]
        for sub, v in pending:
            section(path + sub, v)

    for sub, v in flat(tree, (), (), "", False):
        section(sub, v)
    comment()
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    end = draw(st.sampled_from([newline, ""]))   # a last line without its line ending too
    text = newline.join(lines) + end
    assert tomllib.loads(text) == tree, text  # the generator's own check
    return text


@st.composite
def any_config(draw, versions=(1, 2, 3, 4)):
    version = draw(st.sampled_from(versions))
    tree = draw(meaning(version))
    return version, tree, draw(spell(tree))


def _pruned(tree: dict) -> dict:
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            v = _pruned(v)
            if not v:
                continue
        out[k] = v
    return out


#: CI does not shrink a failing example (shrinking these configs can take minutes); the long
#: profile does.
ci_settings = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate]) \
    if os.environ.get("HYPOTHESIS_PROFILE", "ci") == "ci" else settings()


def own_line_comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()
            if line.strip().startswith("#") and line.strip()[1:].strip()]


@ci_settings
@given(any_config(), st.sampled_from([1, 2, 3, 4]))
def test_every_version_to_every_version(config, to: int) -> None:
    version, tree, text = config
    try:
        result = migrator.migrate(text, to=to)
    except migrator.LossError:
        return  # the target cannot say it: refused, which is right (exit 3)
    out = tomllib.loads(result.text)
    assert out.get("version", 1) == to or (to == 1 and "version" not in out)
    assert result.source_version == version
    again = migrator.migrate(result.text, to=to)
    assert again.text == result.text and not again.changes
    for comment in own_line_comments(text):
        assert comment[1:] in result.text


def _same_meaning(a: dict, b: dict) -> bool:
    a, b = dict(a), dict(b)
    a.pop("version", None)
    b.pop("version", None)
    return a == b


@ci_settings
@given(any_config(versions=(1, 2, 3)), st.data())
def test_up_then_down_gives_back_the_meaning(config, data) -> None:
    version, tree, text = config
    to = data.draw(st.integers(version + 1, 4), label="to")
    up = migrator.migrate(text, to=to)
    try:
        down = migrator.migrate(up.text, to=version)
    except migrator.LossError:
        return  # not lossless
    if any(c.kind == "dropped" for c in up.changes + down.changes):
        return
    assert _same_meaning(tomllib.loads(down.text), tree)
    assert migrator.migrate(down.text, to=to).text == up.text or _same_meaning(
        tomllib.loads(migrator.migrate(down.text, to=to).text), tomllib.loads(up.text))


@ci_settings
@given(st.sampled_from([1, 2, 3, 4]).flatmap(
    lambda v: st.tuples(st.just(v), meaning(v))).flatmap(
    lambda vt: st.tuples(st.just(vt[1]), spell(vt[1]), spell(vt[1]))),
    st.sampled_from([1, 2, 3, 4]))
def test_spelling_does_not_change_the_meaning(spellings, to: int) -> None:
    tree, one, other = spellings
    try:
        a = migrator.migrate(one, to=to)
    except migrator.LossError:
        with pytest.raises(migrator.LossError):
            migrator.migrate(other, to=to)
        return
    b = migrator.migrate(other, to=to)
    # Empty tables aside: a header written for a super-table (`[plugins."...images"]` above
    # `[plugins."...images".registry]`) stays as an empty table when all below it moves away.
    assert _pruned(tomllib.loads(a.text)) == _pruned(tomllib.loads(b.text))
    # the report may word it differently (one header renamed, or each dotted key moved), but
    # the warnings are about the same settings
    assert sorted((f.code, f.path) for f in a.findings) == \
        sorted((f.code, f.path) for f in b.findings)


