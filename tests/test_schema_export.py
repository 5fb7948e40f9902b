"""schema_text(): the committed schema files, byte for byte (`containerd-migrate schema`)."""
from __future__ import annotations

import json

import pytest

from migrator.checks.schema_export import LINES, VERSIONS, schema_file_name, schema_text

from .helpers import REPO

SCHEMAS = REPO / "schemas"


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_config_version_text_is_the_committed_file(version):
    text = schema_text(version=version)
    path = SCHEMAS / f"containerd-config-v{version}.json"
    assert text.encode("utf-8") == path.read_bytes()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    schema = json.loads(text)
    assert schema["$id"].endswith(f"/containerd-config-v{version}.json")
    assert schema["x-containerd-config-version"] == version


@pytest.mark.parametrize("line", ["1.6", "1.7", "2.0", "2.1", "2.2", "2.3", "2.4"])
def test_release_line_text_is_the_committed_file(line):
    text = schema_text(containerd=line)
    assert text.encode("utf-8") == (SCHEMAS / f"containerd-{line}.json").read_bytes()
    assert json.loads(text)["x-containerd-lines"] == [line]


def test_every_committed_schema_is_reachable():
    names = {schema_file_name(version=v) for v in VERSIONS}
    names |= {schema_file_name(containerd=line) for line in LINES}
    assert names == {p.name for p in SCHEMAS.glob("containerd-*.json")}


def test_non_ascii_survives():
    # the Go duration pattern has "µs" (U+00B5) and "μs" (U+03BC); the files are UTF-8, not \u-escaped
    text = schema_text(version=3)
    assert "µs|μs" in text


@pytest.mark.parametrize("given,name", [
    ("v2.1", "containerd-2.1.json"), ("2.1.4", "containerd-2.1.json"),
    ("V1.7.27", "containerd-1.7.json"), (" 2.3 ", "containerd-2.3.json")])
def test_release_line_spellings(given, name):
    assert schema_file_name(containerd=given) == name
    assert schema_text(containerd=given) == (SCHEMAS / name).read_text(encoding="utf-8")


def test_version_given_as_text():
    # click hands over an int; "3" and "v3" are accepted too
    assert schema_text(version="3") == schema_text(version=3)      # type: ignore[arg-type]
    assert schema_file_name(version="v4") == "containerd-config-v4.json"


@pytest.mark.parametrize("kwargs", [
    {}, {"version": 3, "containerd": "2.1"},
    {"version": 0}, {"version": 5}, {"version": True}, {"version": "2.1"}, {"version": 3.0},
    {"containerd": "2.9"}, {"containerd": "1.5"}, {"containerd": "3"}, {"containerd": "2"},
    {"containerd": "latest"}, {"containerd": "2.1.x"}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError) as exc:
        schema_text(**kwargs)
    if kwargs.get("containerd") == "3":
        assert "1.6" in str(exc.value)        # the message lists the known release lines
