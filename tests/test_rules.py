"""The rules files: well-formed, attributed to a containerd release, readable backwards."""
from __future__ import annotations

import pytest

from migrator.core import rules
from migrator.core.engine import Mapper


def test_every_rule_names_its_release_and_source() -> None:
    for (a, b), rs in rules.rule_sets().items():
        if a > b:
            continue
        for rule in rs.rules:
            assert rule.release, rule.id
            assert rule.source and "@" in rule.source, rule.id


def test_steps_chain_up_and_down() -> None:
    assert [(s.from_version, s.to_version) for s in rules.chain(1, 3)] == [(1, 2), (2, 3)]
    assert [(s.from_version, s.to_version) for s in rules.chain(3, 1)] == [(3, 2), (2, 1)]
    assert rules.known_versions() == (1, 2, 3, 4)


def test_most_specific_rule_wins() -> None:
    m = Mapper(rules.chain(2, 3))
    cri = ("plugins", "io.containerd.grpc.v1.cri")
    assert m.target(cri + ("enable_selinux",)).path == (
        "plugins", "io.containerd.cri.v1.runtime", "enable_selinux")
    assert m.target(cri + ("registry", "configs", "r.io", "tls", "ca_file")).path is None
    assert m.target(cri + ("registry", "configs", "r.io", "auth", "username")).path == (
        "plugins", "io.containerd.cri.v1.images", "registry", "configs", "r.io", "auth",
        "username")
    assert m.target(cri + ("stream_server_port",)).path == cri + ("stream_server_port",)


def test_v1_names_follow_containerd_1x_ids() -> None:
    m = Mapper(rules.chain(1, 2))
    assert m.target(("plugins", "nri", "disable")).path == (
        "plugins", "io.containerd.nri.v1.nri", "disable")
    assert m.target(("plugins", "diff-service", "x")).path == (
        "plugins", "io.containerd.service.v1.diff-service", "x")
    assert m.target(("plugins", "mystery")).path == ("plugins", "io.containerd.grpc.v1.mystery")
    assert m.target(("plugins", "io.containerd.gc.v1.scheduler")).path == (
        "plugins", "io.containerd.gc.v1.scheduler")
    assert m.entry("cri") == (["io.containerd.grpc.v1.cri"], [m.chain[0].rules[0]])


def test_reading_backwards_inverts_moves() -> None:
    up, down = Mapper(rules.chain(2, 3)), Mapper(rules.chain(3, 2))
    for path in [("plugins", "io.containerd.grpc.v1.cri", "sandbox_image"),
                 ("plugins", "io.containerd.grpc.v1.cri", "containerd", "runtimes", "r", "x"),
                 ("plugins", "io.containerd.internal.v1.restart", "interval")]:
        there = up.target(path).path
        assert there is not None and down.target(there).path == path


def test_grammar_errors_are_reported_with_a_position() -> None:
    with pytest.raises(ValueError, match="bad.rules"):
        rules.parse_rules("step 1 -> 2 \"t\"\ngroup g { move a -> ; }", "bad.rules")


def test_a_full_uri_in_a_version_1_file_is_never_prefixed_again() -> None:
    m = Mapper(rules.chain(1, 2))
    for name in ("io.containerd.service.v1.diff-service", "io.containerd.service.v1.tasks-service"):
        assert m.target(("plugins", name, "default")).path == ("plugins", name, "default")
        assert m.entry(name)[0] == [name]
    assert m.entry("diff-service")[0] == ["io.containerd.service.v1.diff-service"]


SPELL = ('step 2 -> 3 "t" releases "2.1" native "2.1"\n'
         'group g release "2.0" source "x@v2.0.0" {\n'
         '  spell plugins.*.options because "case";\n}\n')


def test_spell_rules_read_the_same_both_ways() -> None:
    rs = rules.parse_rules(SPELL, "spell.rules")
    (rule,) = rs.rules
    assert (rule.kind, rule.src.segments, rule.reason) == ("spell", ("plugins", "*", "options"),
                                                           "case")
    (back,) = rs.reversed().rules
    assert back.kind == "spell" and back.src == rule.src and back.reverse


def test_spelling_comes_from_the_callers_names_and_keeps_its_place() -> None:
    rs = rules.parse_rules(SPELL, "spell.rules")
    names = {"systemdcgroup": "SystemdCgroup"}
    tree = {"plugins": {"p": {"options": {"systemdCgroup": True, "x": 1}},
                        "q": {"options": {"systemdCgroup": True, "SystemdCgroup": False}}}}
    m = Mapper([rs], tree=tree, spelling=lambda table, key: names.get(key.lower()))
    spelled = m.target(("plugins", "p", "options", "systemdCgroup"))
    assert spelled.path == ("plugins", "p", "options", "SystemdCgroup")
    assert spelled.rule is rs.rules[0]
    assert m.target(("plugins", "p", "options", "x")).path == ("plugins", "p", "options", "x")
    # both spellings in one table meet at one path; the listed one ranks higher
    q = ("plugins", "q", "options")
    assert m.target(q + ("systemdCgroup",)).path == q + ("SystemdCgroup",)
    assert m.target(q + ("SystemdCgroup",)).rank() > m.target(q + ("systemdCgroup",)).rank()
    assert Mapper([rs]).target(("plugins", "p", "options", "systemdCgroup")).path == (
        "plugins", "p", "options", "systemdCgroup")  # no names given: nothing to spell


def test_a_rule_with_warn_and_differs_reports_both() -> None:
    """plugin-fallback's `*.*` rule warns (the table takes effect from version 2 on) and notes
    that containerd's migration differs (1.x ignored it, facts E16): neither hides the other."""
    import migrator
    result = migrator.migrate('[plugins."io.containerd.service.v1.diff-service"]\n'
                              '  sync_fs = true\n', to=2)
    mine = [(f.severity, f.message.startswith("containerd's own migration differs"))
            for f in result.findings if f.code.startswith("plugin-fallback/")]
    assert sorted(mine) == [("info", True), ("warning", False)]
