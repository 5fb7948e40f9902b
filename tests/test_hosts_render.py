"""hosts.toml is written directly (issue 17: a tomlkit document per file made 5,000 mirrors
slow); the text must be what tomlkit lays out for the same document, byte for byte."""
from __future__ import annotations

import tomllib
from typing import Any

import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.features.hosts import CAPABILITIES, Entry, HostsFile


def tomlkit_render(hf: HostsFile) -> str:
    """The layout as tomlkit writes it (the renderer before issue 17)."""
    doc = tomlkit.document()
    what = "every registry without its own directory" if hf.registry == "*" else hf.registry
    doc.add(tomlkit.comment(f"Registry hosts for {what}, converted by containerd-migrate "
                            "from the CRI registry config."))
    if hf.server is not None:
        doc["server"] = hf.server.url
        if hf.server_capabilities:
            doc["capabilities"] = list(CAPABILITIES)
        for key, value in hf._keys(hf.server).items():
            doc[key] = value
    if hf.hosts:
        if hf.server is not None:
            doc.add(tomlkit.nl())
        table = tomlkit.table(is_super_table=True)
        for entry in hf.hosts:
            t = tomlkit.table()
            t["capabilities"] = list(CAPABILITIES)
            for key, value in hf._keys(entry).items():
                t[key] = value
            table.add(entry.url, t)
        doc["host"] = table
    return doc.as_string()


text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
urls = st.builds(lambda host, path: f"https://{host}{path}",
                 st.sampled_from(["mirror.example", "10.0.0.1:5000", "[::1]:443", "h_x.local"]),
                 st.sampled_from(["", "/v2", "/mirror", "/a b", '/q"uote', "/é"]))
tls = st.fixed_dictionaries({}, optional={
    "ca": st.one_of(text, st.lists(text, min_size=1, max_size=3)),
    "client": st.one_of(text, st.lists(st.lists(text, min_size=2, max_size=2), min_size=1,
                                       max_size=2)),
    "skip_verify": st.booleans()})


def entry(url: str) -> Entry:
    from urllib.parse import urlsplit
    return Entry(url=url, scheme="https", host=urlsplit(url).netloc, path=urlsplit(url).path)


@st.composite
def hosts_files(draw: Any) -> HostsFile:
    server = draw(st.one_of(st.none(), urls))
    hosts = draw(st.lists(urls, max_size=4, unique=True))
    all_urls = ([server] if server else []) + hosts
    return HostsFile(draw(st.sampled_from(["docker.io", "*", "r.example:5000"])), "d",
                     [entry(u) for u in hosts], entry(server) if server else None,
                     draw(st.booleans()),
                     {u: draw(tls) for u in all_urls if draw(st.booleans())})


@settings(max_examples=300, deadline=None)
@given(hosts_files())
def test_hosts_toml_is_laid_out_as_tomlkit_does(hf: HostsFile) -> None:
    ours = hf.render()
    assert ours == tomlkit_render(hf)
    tree = tomllib.loads(ours)
    assert list(tree.get("host", {})) == [e.url for e in hf.hosts]


def test_the_examples_render_as_tomlkit_does() -> None:
    for hf in (HostsFile("docker.io", "docker.io", [], entry("https://registry-1.docker.io"),
                         False),
               HostsFile("*", "_default", [entry("https://m.example/mirror")], None, False),
               HostsFile("r.example", "r.example", [entry("https://a.example"),
                                                    entry("https://b.example/v2")],
                         entry("https://r.example"), True,
                         {"https://a.example": {"ca": "/ca.pem", "skip_verify": True}})):
        assert hf.render() == tomlkit_render(hf)
