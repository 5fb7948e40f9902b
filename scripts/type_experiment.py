"""Ask every containerd release how it reads values of the wrong type; write the table.

    python scripts/type_experiment.py          # runs the binaries, writes the table:
                                               # tests/data/type_refusals.json, docs/types.md
    python scripts/type_experiment.py --check    # runs them, exit 1 if the table is out of date

For each case, `containerd-X -c FILE config dump` either fails (a decode error: containerd refuses
to start with the file) or prints a config. The table records that per release line (1.6-2.3,
the binaries of scripts/fetch-containerd.sh) beside what containerd-migrate must do:

* "refused": every release line that reads the file's config version natively and reads the key
  refuses the file -> migration exits 2 with the position, lint reports an error;
* "carried": some of them read the file -> the value moves as it is, with a schema warning.

`ignored_by` lists the native lines that do not have the key (they ignore the value; the key came
later). schemas/decoding.json holds the decoder behaviour these cases exercise, and
tests/test_type_refusals.py holds the tool to the table (and, with the binaries, the table to the
binaries).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TABLE = REPO / "tests" / "data" / "type_refusals.json"
sys.path.insert(0, str(REPO))
from migrator.core import catalog  # noqa: E402

LINES = tuple(catalog.lines())

CRI = 'plugins."io.containerd.grpc.v1.cri"'
IMG = 'plugins."io.containerd.cri.v1.images"'
RT = 'plugins."io.containerd.cri.v1.runtime"'
GC = 'plugins."io.containerd.gc.v1.scheduler"'
LOCAL = 'plugins."io.containerd.transfer.v1.local"'
GRPC4 = 'plugins."io.containerd.server.v1.grpc"'


def case(id: str, text: str, expect: str, why: str = "", ignored_by: tuple = ()) -> dict:
    out = {"id": id, "text": text, "expect": expect}
    if ignored_by:
        out["ignored_by"] = list(ignored_by)
    if why:
        out["why"] = why
    return out


CASES = [
    # the cases of issue 15
    case("v2-disabled_plugins-integer", "version = 2\ndisabled_plugins = 5\n", "refused"),
    case("v2-cni-integer", f"version = 2\n[{CRI}]\ncni = 5\n", "refused"),
    case("v2-runtimes-array", f'version = 2\n[{CRI}.containerd]\nruntimes = ["runc"]\n',
         "refused"),
    case("v2-options-string", f'version = 2\n[{CRI}.containerd.runtimes.runc]\n'
         'runtime_type = "io.containerd.runc.v2"\noptions = "SystemdCgroup=true"\n', "refused"),
    case("v2-imports-string", 'version = 2\nimports = "x.toml"\n', "refused"),
    case("v2-plugin-string", 'version = 2\n[plugins]\n"io.containerd.grpc.v1.cri" = "x"\n',
         "refused"),
    case("v2-bin_dir-array", f'version = 2\n[{CRI}.cni]\nbin_dir = ["/a"]\n', "refused"),
    case("v2-bin_dir-table", f"version = 2\n[{CRI}.cni]\nbin_dir = {{a = 1}}\n", "refused"),
    case("v2-grpc-address-table", "version = 2\n[grpc]\naddress = {}\n", "refused"),
    case("v3-grpc-address-table", "version = 3\n[grpc]\naddress = {}\n", "refused",
         "2.x decodes the keys outside plugins from the file itself: an empty table is no string"),
    case("v2-unpack_config-unknown-key", f'version = 2\n[[{LOCAL}.unpack_config]]\n'
         'platform = "linux/amd64"\nbogus = 1\n', "carried",
         "an unknown key is ignored (2.x logs it)"),
    case("v2-unpack_config-nested-array-of-tables", f"version = 2\n[[{LOCAL}.unpack_config]]\n"
         f'platform = "linux/amd64"\n[[{LOCAL}.unpack_config.x]]\ny = 1\n', "carried",
         "an unknown key is ignored (2.x logs it)"),
    # a table given as a scalar or an array
    case("v1-cni-string", '[plugins.cri]\ncni = "x"\n', "refused"),
    case("v1-registry-array", "[plugins.cri]\nregistry = []\n", "refused"),
    case("v2-grpc-integer", "version = 2\ngrpc = 5\n", "refused"),
    case("v3-grpc-array-of-tables", "version = 3\n[[grpc]]\naddress = \"/x\"\n", "refused"),
    case("v3-cni-string", f'version = 3\n[{RT}]\ncni = "x"\n', "refused"),
    case("v3-cni-array", f'version = 3\n[{RT}]\ncni = ["x"]\n', "refused"),
    case("v4-cni-boolean", f"version = 4\n[{RT}]\ncni = true\n", "refused"),
    case("v2-registry-string", f'version = 2\n[{CRI}]\nregistry = "x"\n', "refused"),
    case("v3-mirrors-string", f'version = 3\n[{IMG}.registry]\nmirrors = "x"\n', "refused"),
    # an array given as a scalar or a table
    case("v1-disabled_plugins-string", 'disabled_plugins = "cri"\n', "refused"),
    case("v2-disabled_plugins-empty-table", "version = 2\ndisabled_plugins = {}\n", "refused"),
    case("v2-pod_annotations-string", f'version = 2\n[{CRI}.containerd.runtimes.runc]\n'
         'pod_annotations = "x"\n', "refused"),
    case("v3-disabled_plugins-string", 'version = 3\ndisabled_plugins = "x"\n', "refused"),
    case("v4-imports-string", 'version = 4\nimports = "x.toml"\n', "refused"),
    case("v3-bin_dirs-string", f'version = 3\n[{RT}.cni]\nbin_dirs = "/opt/cni/bin"\n',
         "refused", "bin_dirs came in 2.1: 2.0 ignores the key, 2.1 and 2.2 refuse the value",
         ignored_by=("2.0",)),
    case("v3-bin_dirs-table", f'version = 3\n[{RT}.cni]\nbin_dirs = {{a = "/opt"}}\n',
         "refused", "bin_dirs came in 2.1: 2.0 ignores the key, 2.1 and 2.2 refuse the value",
         ignored_by=("2.0",)),
    case("v3-disabled_plugins-nested-array", "version = 3\ndisabled_plugins = [[]]\n", "refused"),
    case("v2-disabled_plugins-numbers", "version = 2\ndisabled_plugins = [1, 2]\n", "refused"),
    case("v2-imports-numbers", "version = 2\nimports = [1]\n", "refused"),
    # a string (or another value) where a table of runtimes is
    case("v1-runtimes-string", '[plugins.cri.containerd]\nruntimes = "runc"\n', "refused"),
    case("v3-runtimes-string", f'version = 3\n[{RT}.containerd]\nruntimes = "runc"\n', "refused"),
    case("v3-runtime-string", f'version = 3\n[{RT}.containerd.runtimes]\nrunc = "x"\n', "refused"),
    case("v2-runtimes-array-of-tables", f'version = 2\n[[{CRI}.containerd.runtimes]]\n'
         'runtime_type = "x"\n', "refused"),
    case("v4-runtimes-array-of-tables", f'version = 4\n[[{RT}.containerd.runtimes]]\n'
         'runtime_type = "x"\n', "refused"),
    case("v3-options-array", f'version = 3\n[{RT}.containerd.runtimes.runc]\noptions = []\n',
         "refused"),
    # a list of tables given as something else
    case("v2-unpack_config-table", f'version = 2\n[{LOCAL}]\nunpack_config = {{platform = "x"}}\n',
         "refused", "the transfer plugin came in 1.7: 1.6 ignores the table, 1.7 refuses it",
         ignored_by=("1.6",)),
    case("v3-unpack_config-empty-table", f"version = 3\n[{LOCAL}]\nunpack_config = {{}}\n",
         "refused"),
    case("v3-unpack_config-strings", f'version = 3\n[{LOCAL}]\nunpack_config = ["x"]\n',
         "refused"),
    # the plugins table and plugin tables
    case("v2-plugins-integer", "version = 2\nplugins = 5\n", "refused"),
    case("v3-plugins-array-of-tables", "version = 3\n[[plugins]]\nx = 1\n", "refused"),
    case("v3-plugin-integer", f"version = 3\n[plugins]\n\"io.containerd.cri.v1.images\" = 5\n",
         "refused"),
    case("v3-plugin-table-array",
         'version = 3\n[plugins]\n"io.containerd.cri.v1.images" = ["x"]\n',
         "carried", "2.x re-encodes the list into a key it ignores as unknown"),
    case("v2-unknown-plugin-string", 'version = 2\n[plugins]\n"example.com.x.v1.foo" = "x"\n',
         "refused", "1.x decodes every plugins entry as a table"),
    case("v3-unknown-plugin-string", 'version = 3\n[plugins]\n"example.com.x.v1.foo" = "x"\n',
         "carried", "2.x decodes only the tables of plugins it has"),
    # scalars
    case("v1-sandbox_image-integer", "[plugins.cri]\nsandbox_image = 5\n", "refused"),
    case("v2-runtime_type-integer", f"version = 2\n[{CRI}.containerd.runtimes.runc]\n"
         "runtime_type = 5\n", "refused"),
    case("v2-sandbox_image-datetime", f"version = 2\n[{CRI}]\n"
         "sandbox_image = 1979-05-27T07:32:00Z\n", "refused"),
    case("v2-oom_score-float", "version = 2\noom_score = 1.5\n", "refused"),
    case("v2-oom_score-nan", "version = 2\noom_score = nan\n", "refused"),
    case("v3-snapshotter-integer", f"version = 3\n[{IMG}]\nsnapshotter = 5\n", "refused"),
    case("v3-max_concurrent_downloads-float", f"version = 3\n[{IMG}]\n"
         "max_concurrent_downloads = 1.5\n", "refused"),
    case("v3-enable_cdi-string", f'version = 3\n[{RT}]\nenable_cdi = "true"\n', "refused"),
    case("v4-grpc-address-integer", f"version = 4\n[{GRPC4}]\naddress = 5\n", "refused"),
    case("v4-grpc-address-empty-table", f"version = 4\n[{GRPC4}]\naddress = {{}}\n", "carried",
         "2.x re-encodes each plugin table before decoding it: an empty table decodes into a "
         "string"),
    case("v3-snapshotter-empty-table", f"version = 3\n[{IMG}]\nsnapshotter = {{}}\n", "carried",
         "2.x re-encodes each plugin table before decoding it: an empty table decodes into a "
         "string"),
    case("v2-sandbox_image-empty-table", f"version = 2\n[{CRI}]\nsandbox_image = {{}}\n",
         "refused"),
    case("v3-root-empty-table", "version = 3\nroot = {}\n", "refused"),
    # Go durations
    case("v3-schedule_delay-integer", f"version = 3\n[{GC}]\nschedule_delay = 5\n", "refused"),
    case("v2-schedule_delay-not-a-duration", f'version = 2\n[{GC}]\nschedule_delay = "soon"\n',
         "refused"),
    case("v2-restart-interval-integer",
         'version = 2\n[plugins."io.containerd.internal.v1.restart"]\ninterval = 5\n', "refused",
         "a duration type with its own UnmarshalText: 1.x refuses an integer too"),
    case("v2-nri-timeout-nanoseconds", 'version = 2\n[plugins."io.containerd.nri.v1.nri"]\n'
         "plugin_request_timeout = 5000000000\n", "carried",
         "NRI came in 1.7 (1.6 ignores the table); a plain time.Duration: go-toml v1 takes the "
         "integer as nanoseconds, 2.x refuses it (the migration writes \"5s\")",
         ignored_by=("1.6",)),
    case("v3-schedule_delay-zero", f"version = 3\n[{GC}]\nschedule_delay = 0\n", "carried",
         "0 is a duration for both decoders (no warning either)"),
    case("v2-stream_idle_timeout-not-a-duration", f'version = 2\n[{CRI}]\n'
         'stream_idle_timeout = "soon"\n', "carried",
         "a plain string, parsed when the CRI plugin starts, not when the file is read"),
    # free-form tables: decoded later, by the shim
    case("v2-options-values", f'version = 2\n[{CRI}.containerd.runtimes.runc.options]\n'
         'SystemdCgroup = "true"\nBinaryName = 5\n', "carried",
         "runtime options are a free-form map when the file is read"),
    case("v3-options-value-table", f"version = 3\n[{RT}.containerd.runtimes.runc.options]\n"
         "SystemdCgroup = {}\n", "carried",
         "runtime options are a free-form map when the file is read"),
]


def observe(text: str, lines: tuple[str, ...] = LINES) -> dict[str, dict]:
    """{line: {"refused": bool, "message": first error line}} from `config dump` of each line."""
    sys.path.insert(0, str(REPO))
    from tests import oracle
    out = {}
    for line in lines:
        if oracle.binary(line) is None:
            raise SystemExit(f"containerd {line} binary not found: "
                             "run scripts/fetch-containerd.sh")
        d = oracle.dump(line, text)
        entry: dict = {"refused": d.returncode != 0}
        if d.returncode != 0:
            panic = next((x for x in d.stderr.splitlines() if x.startswith("panic: ")), None)
            entry["message"] = panic or (d.errors[-1] if d.errors else d.stderr.strip()
                                         .splitlines()[-1])
        out[line] = entry
    return out


def build() -> dict:
    from tests import oracle
    versions = {line: oracle.binary(line).name.removeprefix("containerd-") for line in LINES}
    return {
        "$comment": "Written by scripts/type_experiment.py: `containerd-X -c config.toml config "
                    "dump` per case and release (refused: it exited non-zero). Do not edit the "
                    "releases by hand; cases, expect, ignored_by and why live in the script.",
        "binaries": versions,
        "cases": [dict(c, releases=observe(c["text"])) for c in CASES],
    }


DOC = REPO / "docs" / "types.md"
BEGIN, END = "<!-- table: scripts/type_experiment.py -->", "<!-- end of table -->"


def markdown(table: dict) -> str:
    """The table for docs/types.md: one row per case, R where the release refused the file."""
    lines = list(table["binaries"])
    out = ["| case | value | " + " | ".join(lines) + " | containerd-migrate |",
           "|---|---|" + "---|" * len(lines) + "---|"]
    for c in table["cases"]:
        body = c["text"].split("\n", 1)[1] if c["text"].startswith("version") else c["text"]
        value = body.strip().replace("\n", "; ").replace("|", "\\|")
        marks = " | ".join("R" if c["releases"][line]["refused"] else "."
                           + (" (no key)" if line in c.get("ignored_by", ()) else "")
                           for line in lines)
        what = "exit 2" if c["expect"] == "refused" else "carried"
        out.append(f"| {c['id']} | `{value}` | {marks} | {what} |")
    return "\n".join(out)


def write_doc(table: dict) -> None:
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{markdown(table)}\n{END}{tail}", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the table, write nothing")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    table = build()
    text = json.dumps(table, indent=1, ensure_ascii=False) + "\n"
    if args.check:
        same = TABLE.is_file() and TABLE.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{TABLE} is out of date")
        return 0 if same else 1
    TABLE.write_text(text, encoding="utf-8")
    write_doc(table)
    print(f"wrote {TABLE} ({len(table['cases'])} cases) and the table in {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
