#!/usr/bin/env python3
"""Speed figures for containerd-migrate, measured side by side with containerd itself.

    bash scripts/fetch-containerd.sh        # containerd 2.1 into ~/.cache/containerd-migrate/bin
    python bench/run.py                     # all sections, a Markdown table at the end
    python bench/run.py --rounds 9 --only batch,one

A script, not a test: it asserts nothing and never fails on a slow machine; it prints each
figure next to its target (docs/speed.md). Every comparison is measured in the same run,
interleaved where both sides are processes, and reported as medians and ratios, so a busy
machine slows both sides alike.

Sections:
  batch   all v1/v2 files of ../shared/corpus/real to version 3: one `containerd-migrate --to 3
          --check FILES...` process, and the library loop in this process, against
          `containerd-2.1 -c FILE config migrate` once per file
  one     one file on the command line against containerd 2.1 on the same file
  lib     `migrate(text, to=3)` against tomlkit parse + dump of the same text (the floor of a
          comment-preserving rewrite)
  rss     peak RSS of the CLI process (one file, and the batch)
  scale   generated version 2 configs with 10 ... 10,000 runtimes: wall time, time per runtime,
          and the CLI's peak RSS at 10,000
  version `containerd-migrate --version` against `python -c pass`
  hosts   `--hosts-dir` with 250, 1,000 and 5,000 registry mirrors (bench/hosts_scale.py)
  lint    `--lint` with one finding per runtime, 100 and 400 runtimes (bench/lint_scale.py)
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "real"
DEFAULT_FILE = REPO / "examples" / "config-v2.toml"
SECTIONS = ("version", "batch", "one", "lib", "rss", "scale", "hosts", "lint")
SCALES = (10, 100, 1000, 10000)


# ------------------------------------------------------------------------------------ helpers

ENV: dict[str, str] | None = None   # the environment of the CLI processes (use_checkout)

# one library call on a file, timed inside a fresh interpreter (a long-lived benchmark process
# holds far more objects, which makes Python's garbage collector slower than in a real caller)
_ONE_CALL = """
import sys, time
from migrator import migrate
text = open(sys.argv[1], encoding="utf-8").read()
migrate('version = 2\\n[plugins."io.containerd.grpc.v1.cri"]\\n  sandbox_image = "x"\\n', to=3)
t0 = time.perf_counter()
migrate(text, to=3)
print(time.perf_counter() - t0)
"""


# what any CLI on this stack loads before it reads a byte: the design card's CLI framework and
# the standard TOML parser (the one-file and batch goals are measured against it)
IMPORT_FLOOR = [sys.executable, "-c", "import click, tomllib"]


def run(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, exit code) of one child process, its output discarded."""
    t0 = time.perf_counter()
    code = subprocess.call(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - t0, code


# Peak RSS is read by a small launcher process: the kernel carries the memory high-water mark
# of the process that forks (vfork shares it) into the child's ru_maxrss, so measured straight
# from this process (tens of MiB with migrator and tomlkit loaded) every child would look at
# least that big.
_LAUNCH = """
import os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                                   (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def peak_rss(cmd: list[str], stdin: bytes | None = None) -> int:
    """Peak RSS in KiB of one run of cmd (its own, not its launcher's)."""
    exe = shutil.which(cmd[0]) or cmd[0]
    p = subprocess.run([sys.executable, "-I", "-S", "-c", _LAUNCH, exe, *cmd[1:]],
                       input=stdin, stdout=subprocess.PIPE, env=ENV, check=True)
    code, kib = p.stdout.split()
    if int(code) not in (0, 1, 2, 3):
        sys.exit(f"bench: {' '.join(cmd)} exited {int(code)}")
    return int(kib)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def cli_command() -> list[str]:
    """The installed console script of this interpreter (not a version manager's shim)."""
    for candidate in (Path(sysconfig.get_path("scripts")) / "containerd-migrate",
                      Path(sys.executable).parent / "containerd-migrate"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    found = shutil.which("containerd-migrate")
    if found:
        return [found]
    return [sys.executable, "-m", "migrator.cli"]


def use_checkout(checkout: Path, compile_: bool) -> dict[str, str]:
    """Measure the code of this checkout, whatever is installed: first on sys.path here and
    on PYTHONPATH for the CLI processes (the console script imports `migrator` through it).
    With `compile_`, byte-compile it first, as pip does when it installs a wheel: otherwise,
    under PYTHONDONTWRITEBYTECODE, every CLI start would compile all modules again."""
    sys.path.insert(0, str(checkout))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(checkout)] + ([env["PYTHONPATH"]]
                                                          if env.get("PYTHONPATH") else []))
    if compile_:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "migrator")],
                       stdout=subprocess.DEVNULL, check=False)
    return env


def containerd_binary(line: str) -> Path:
    from tests import oracle
    path = oracle.binary(line)
    if path is None:
        sys.exit(f"bench: containerd {line} not found in {oracle.cache_dir() / 'bin'}; "
                 "run scripts/fetch-containerd.sh")
    return path


def corpus_files(corpus: Path) -> list[Path]:
    """Every file of the corpus that parses as TOML, holds a setting, and is version 1 or 2."""
    out = []
    for path in sorted(corpus.glob("*.toml")):
        try:
            text = path.read_text(encoding="utf-8")
            tree = tomllib.loads(text)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if not text.strip() or not tree:
            continue
        if tree.get("version", 1) in (1, 2):
            out.append(path)
    return out


def runtimes_config(n: int) -> str:
    """A version 2 node config with n runtimes, the way generated configs look."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    parts = [
        "# generated for the scaling benchmark\n",
        "version = 2\n\n",
        'root = "/var/lib/containerd"\nstate = "/run/containerd"\n\n',
        f"[{cri}]\n",
        '  sandbox_image = "registry.k8s.io/pause:3.9"\n',
        "  systemd_cgroup = false\n\n",
        f"  [{cri}.cni]\n",
        '    bin_dir = "/opt/cni/bin"\n    conf_dir = "/etc/cni/net.d"\n\n',
        f"  [{cri}.containerd]\n",
        '    snapshotter = "overlayfs"\n    default_runtime_name = "r0"\n\n',
    ]
    for i in range(n):
        parts.append(
            f"    # runtime {i}\n"
            f"    [{cri}.containerd.runtimes.r{i}]\n"
            f'      runtime_type = "io.containerd.runc.v2"\n'
            f"      privileged_without_host_devices = {'true' if i % 2 else 'false'}\n"
            f'      sandbox_mode = "podsandbox"\n\n'
            f"      [{cri}.containerd.runtimes.r{i}.options]\n"
            f'        BinaryName = "/usr/local/bin/runc-{i}"\n'
            f"        SystemdCgroup = true  # kubelet uses systemd\n\n")
    return "".join(parts)


def mirrors_config(n: int) -> str:
    """A version 2 config with n registries, each with a mirror endpoint; every fifth has TLS
    settings (they move to hosts.toml too)."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    parts = ["version = 2\n\n", f"[{cri}.registry]\n\n"]
    for i in range(n):
        parts.append(f'[{cri}.registry.mirrors."reg{i}.example.com"]\n'
                     f'  endpoint = ["https://mirror{i}.example.net", "https://reg{i}.example.com"]\n')
        if i % 5 == 0:
            parts.append(f'[{cri}.registry.configs."mirror{i}.example.net".tls]\n'
                         f'  ca_file = "/etc/containerd/certs/{i}.pem"\n')
    return "".join(parts)


def option_level_config(n: int) -> str:
    """A version 2 config with n runc runtimes, each with SystemdCgroup one table too high (one
    lint finding per runtime)."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    parts = ["version = 2\n\n"]
    for i in range(n):
        parts.append(f"[{cri}.containerd.runtimes.r{i}]\n"
                     f'  runtime_type = "io.containerd.runc.v2"\n'
                     f"  SystemdCgroup = true\n\n")
    return "".join(parts)


# ----------------------------------------------------------------------------------- sections

class Bench:
    def __init__(self, args: argparse.Namespace, containerd: Path) -> None:
        self.args = args
        self.rounds: int = args.rounds
        self.cli = cli_command()
        self.containerd = containerd
        self.files = corpus_files(Path(args.corpus))
        self.one = Path(args.file)
        self.rows: list[tuple[str, str, str, str]] = []   # (what, figure, target, verdict)

    def row(self, what: str, figure: str, target: str = "", ok: bool | None = None) -> None:
        verdict = "" if ok is None else ("met" if ok else "NOT met")
        self.rows.append((what, figure, target, verdict))
        print(f"  {what}: {figure}" + (f"   [target {target}: {verdict}]" if target else ""),
              flush=True)

    def batch(self) -> None:
        files = [str(p) for p in self.files]
        print(f"batch: {len(files)} v1/v2 files of {self.args.corpus}, {self.rounds} rounds",
              flush=True)
        cli, ctr = [], []
        for r in range(self.rounds):
            order = ("cli", "ctr") if r % 2 == 0 else ("ctr", "cli")
            for side in order:
                if side == "cli":
                    wall, code = run(self.cli + ["--to", "3", "--check", *files])
                    if code not in (0, 1) and r == 0:
                        print(f"  (note: containerd-migrate --check exited {code}: some file "
                              "failed; it still ran them all)")
                    cli.append(wall)
                else:
                    total = 0.0
                    for f in files:
                        total += run([str(self.containerd), "-c", f, "config", "migrate"])[0]
                    ctr.append(total)
        lib = self._library_loop()
        floor = self._parse_floor()
        imports = [run(IMPORT_FLOOR)[0] for _ in range(max(self.rounds, 5))]
        c, m, lb, fl = median(ctr), median(cli), median(lib), median(floor)
        best = median(imports) + fl
        self.row(f"batch: containerd {self.containerd.name} `config migrate`, once per file", ms(c))
        self.row("batch: `containerd-migrate --to 3 --check FILES...` (one process)", ms(m))
        self.row("batch: containerd / containerd-migrate CLI", f"{c / m:.1f}x",
                 ">= 20x", c / m >= 20)
        self.row("batch: library loop `migrate(text, to=3)` (warm, in process)", ms(lb))
        self.row("batch: containerd / library loop", f"{c / lb:.1f}x", ">= 20x", c / lb >= 20)
        self.row("batch: of which parsing alone (tomllib twice: load and verify; the source "
                 "map once)", f"{ms(fl)} (containerd / parsing: {c / fl:.1f}x)")
        self.row("batch: floor of one process on this stack (the import floor below, then "
                 "parsing alone)", f"{ms(best)} (containerd / floor: {c / best:.1f}x)")

    def _library_loop(self) -> list[float]:
        from migrator import migrate
        texts = [p.read_bytes() for p in self.files]
        migrate(texts[0], to=3)  # warm: rules and schemas loaded once per process
        out = []
        for _ in range(self.rounds):
            t0 = time.perf_counter()
            for name, text in zip(self.files, texts):
                migrate(text, to=3, file=str(name))
            out.append(time.perf_counter() - t0)
        return out

    def _parse_floor(self) -> list[float]:
        """What every migration must do to the text, whatever else it does: tomllib parses it
        (load) and parses the output again (verify), and the source map locates every
        statement; timed on the inputs (the outputs are about as large)."""
        try:
            from migrator.core import source
        except ImportError:  # a checkout from before the layers (issue 17)
            from migrator import source  # type: ignore[no-redef]
        texts = [p.read_text(encoding="utf-8") for p in self.files]
        out = []
        for _ in range(self.rounds):
            t0 = time.perf_counter()
            for t in texts:
                tomllib.loads(t)
                source.parse(t)
                tomllib.loads(t)
            out.append(time.perf_counter() - t0)
        return out

    def one_file(self) -> None:
        f = str(self.one)
        n = max(self.rounds * 4, 11)
        print(f"one: {self.one.name}, {n} interleaved runs each", flush=True)
        cli, ctr, floor, imports = [], [], [], []
        for r in range(n):
            cmds = [("cli", self.cli + [f, "--to", "3"]),
                    ("ctr", [str(self.containerd), "-c", f, "config", "migrate"]),
                    ("py", [sys.executable, "-c", "pass"]), ("imp", IMPORT_FLOOR)]
            if r % 2:
                cmds.reverse()
            for side, cmd in cmds:
                wall, code = run(cmd)
                if code != 0:
                    sys.exit(f"bench: {' '.join(cmd)} exited {code}")
                {"cli": cli, "ctr": ctr, "py": floor, "imp": imports}[side].append(wall)
        c, m, p, i = median(ctr), median(cli), median(floor), median(imports)
        self.row(f"one file: containerd {self.containerd.name} `config migrate`", ms(c))
        self.row("one file: `containerd-migrate FILE --to 3`", ms(m))
        self.row("one file: containerd-migrate / containerd", f"{m / c:.2f}x", "<= 1.5x",
                 m / c <= 1.5)
        self.row("one file: of which `python -c pass` (interpreter start)", ms(p))
        self.row("one file: import floor, `python -c 'import click, tomllib'` (the CLI "
                 "framework and the TOML parser, nothing done)", f"{ms(i)} = {i / c:.2f}x "
                 "containerd")

    def version(self) -> None:
        n = max(self.rounds * 4, 11)
        print(f"version: `containerd-migrate --version`, {n} interleaved runs", flush=True)
        ours, floor = [], []
        for r in range(n):
            cmds = [(ours, self.cli + ["--version"]), (floor, [sys.executable, "-c", "pass"])]
            for out, cmd in (cmds if r % 2 else cmds[::-1]):
                out.append(run(cmd)[0])
        o, f = median(ours), median(floor)
        self.row("`containerd-migrate --version`", ms(o), "<= 40 ms", o <= 0.040)
        self.row("`python -c pass` (interpreter start, for scale)", ms(f))

    def lib(self) -> None:
        import tomlkit
        from migrator import migrate
        text = self.one.read_text(encoding="utf-8")
        n = max(self.rounds * 20, 50)
        print(f"lib: {self.one.name}, {n} interleaved calls each", flush=True)
        migrate(text, to=3)
        tomlkit.dumps(tomlkit.parse(text))
        ours, floor = [], []
        for _ in range(n):
            t0 = time.perf_counter()
            migrate(text, to=3)
            t1 = time.perf_counter()
            tomlkit.dumps(tomlkit.parse(text))
            t2 = time.perf_counter()
            ours.append(t1 - t0)
            floor.append(t2 - t1)
        o, f = median(ours), median(floor)
        self.row("library: `migrate(text, to=3)`", ms(o))
        self.row("library: tomlkit parse + dump (floor)", ms(f))
        self.row("library: migrate / tomlkit", f"{o / f:.2f}x", "<= 2x", o / f <= 2)
        # the same over the whole corpus (the files tomlkit can parse: it refuses some valid
        # TOML, e.g. a table defined by a dotted key and later by a header)
        texts = []
        for p in self.files:
            t = p.read_text(encoding="utf-8")
            try:
                tomlkit.dumps(tomlkit.parse(t))
            except Exception:
                continue
            texts.append(t)
        ours, floor = [], []
        for _ in range(self.rounds):
            t0 = time.perf_counter()
            for t in texts:
                migrate(t, to=3)
            t1 = time.perf_counter()
            for t in texts:
                tomlkit.dumps(tomlkit.parse(t))
            t2 = time.perf_counter()
            ours.append(t1 - t0)
            floor.append(t2 - t1)
        o, f = median(ours), median(floor)
        self.row(f"library, corpus ({len(texts)} files): migrate / tomlkit",
                 f"{o / f:.2f}x ({ms(o)} / {ms(f)})", "<= 2x", o / f <= 2)

    def rss(self) -> None:
        print("rss: peak resident set of the CLI process (wait4 ru_maxrss)", flush=True)
        floor = max(peak_rss([sys.executable, "-c", "pass"]) for _ in range(3))
        one = max(peak_rss(self.cli + [str(self.one), "--to", "3"]) for _ in range(3))
        files = [str(p) for p in self.files]
        many = max(peak_rss(self.cli + ["--to", "3", "--check", *files]) for _ in range(3))
        for what, kib in (("one file", one), (f"batch of {len(files)} files", many)):
            self.row(f"peak RSS, CLI, {what}", f"{kib / 1024:.1f} MiB", "<= 40 MiB",
                     kib / 1024 <= 40)
        self.row("peak RSS, `python -c pass` (for scale)", f"{floor / 1024:.1f} MiB")

    def scale(self) -> None:
        print("scale: generated v2 configs; library call (in a fresh process, after one small "
              "migration) and CLI (whole process)", flush=True)
        per: dict[int, float] = {}
        for n in SCALES:
            text = runtimes_config(n)
            reps = 5 if n <= 1000 else 3
            with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as fh:
                fh.write(text)
            try:
                calls, walls = [], []
                for _ in range(reps):
                    p = subprocess.run([sys.executable, "-c", _ONE_CALL, fh.name],
                                       stdout=subprocess.PIPE, env=ENV, check=True)
                    calls.append(float(p.stdout))
                    walls.append(run(self.cli + [fh.name, "--to", "3"])[0])
            finally:
                os.unlink(fh.name)
            lb, cli = median(calls), median(walls)
            per[n] = lb / n
            self.row(f"scale: {n:>6,} runtimes ({len(text) // 1024} KiB)",
                     f"library {ms(lb)} ({lb / n * 1e6:.0f} us/runtime), CLI {ms(cli)}",
                     "<= 3 s" if n == 10000 else "", (cli <= 3) if n == 10000 else None)
            if n == 10000:
                kib = peak_rss(self.cli + ["-", "--to", "3"], stdin=text.encode())
                self.row("scale: peak RSS, CLI, 10,000 runtimes", f"{kib / 1024:.1f} MiB",
                         "<= 100 MiB", kib / 1024 <= 100)
        flat = per[10000] / per[100]
        self.row("scale: time per runtime, 10,000 / 100", f"{flat:.2f}x", "flat (<= 1.5x)",
                 flat <= 1.5)

    def _timed(self, cmd_for, sizes, reps: int = 3) -> dict[int, float]:
        """Median wall time of the CLI on a generated file of each size (cmd_for(path))."""
        out = {}
        for n, text in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "config.toml"
                path.write_text(text)
                walls = []
                for r in range(reps):
                    wall, code = run(cmd_for(path, Path(tmp) / f"certs.d.{r}"))
                    if code not in (0, 1):
                        sys.exit(f"bench: the CLI exited {code} on {n}")
                    walls.append(wall)
            out[n] = median(walls)
        return out

    def hosts(self) -> None:
        sizes = self.args.hosts_sizes
        print(f"hosts: `--hosts-dir` with {', '.join(map(str, sizes))} mirrors", flush=True)
        walls = self._timed(lambda f, d: self.cli + [str(f), "--to", "3", "--hosts-dir", str(d)],
                            [(n, mirrors_config(n)) for n in sizes])
        for n in sizes:
            self.row(f"hosts: {n:,} mirrors", f"{ms(walls[n])} ({walls[n] / n * 1e3:.2f} ms/mirror)",
                     "< 5 s" if n == 5000 else "", (walls[n] < 5) if n == 5000 else None)
        lo, hi = sizes[0], sizes[-1]
        ratio = (walls[hi] / hi) / (walls[lo] / lo)
        self.row(f"hosts: time per mirror, {hi:,} / {lo:,}", f"{ratio:.2f}x", "linear (<= 1.5x)",
                 ratio <= 1.5)

    def lint(self) -> None:
        sizes = self.args.lint_sizes
        print(f"lint: `--lint`, one finding per runtime, {', '.join(map(str, sizes))} runtimes",
              flush=True)
        walls = self._timed(lambda f, d: self.cli + ["--lint", str(f)],
                            [(n, option_level_config(n)) for n in sizes])
        for n in sizes:
            self.row(f"lint: {n:,} runtimes", f"{ms(walls[n])} ({walls[n] / n * 1e3:.2f} ms/runtime)",
                     "< 1 s" if n == 400 else "", (walls[n] < 1) if n == 400 else None)
        lo, hi = sizes[0], sizes[-1]
        ratio = (walls[hi] / hi) / (walls[lo] / lo)
        self.row(f"lint: time per runtime, {hi:,} / {lo:,}", f"{ratio:.2f}x", "linear (<= 1.5x)",
                 ratio <= 1.5)

    def table(self) -> str:
        lines = ["| measurement | figure | target | |", "|---|---|---|---|"]
        lines += [f"| {w} | {f} | {t} | {v} |" for w, f, t, v in self.rows]
        return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    ap.add_argument("--file", default=str(DEFAULT_FILE), help="the file for `one` and `lib`")
    ap.add_argument("--containerd", default="2.1",
                    help="release line to compare with (2.1: the upstream static build; "
                         "debian-2.1: Debian's, which the issue measured)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help=f"comma-separated sections ({', '.join(SECTIONS)})")
    sizes = lambda s: tuple(int(x) for x in s.split(","))  # noqa: E731
    ap.add_argument("--hosts-sizes", type=sizes, default=(250, 1000, 5000),
                    help="mirror counts for `hosts` (smallest and largest give the ratio)")
    ap.add_argument("--lint-sizes", type=sizes, default=(100, 400, 1000),
                    help="runtime counts for `lint`")
    ap.add_argument("--checkout", default=str(REPO),
                    help="the checkout whose migrator/ is measured (default: this one)")
    ap.add_argument("--no-compile", action="store_true",
                    help="do not byte-compile the checkout first")
    args = ap.parse_args()
    global ENV
    # the containerd binary, found by this checkout's harness before another checkout's
    # migrator (and tests) take their place on sys.path
    containerd = containerd_binary(args.containerd)
    for name in [m for m in sys.modules if m.split(".")[0] in ("migrator", "tests")]:
        del sys.modules[name]
    ENV = use_checkout(Path(args.checkout).resolve(), not args.no_compile)
    bench = Bench(args, containerd)
    print(f"machine: {machine()}")
    import migrator
    print(f"cli: {' '.join(bench.cli)}; code: {Path(migrator.__file__).parent}; "
          f"containerd: {bench.containerd}")
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    for name in wanted:
        if name not in SECTIONS:
            sys.exit(f"bench: unknown section {name!r} (known: {', '.join(SECTIONS)})")
        {"version": bench.version, "batch": bench.batch, "one": bench.one_file,
         "lib": bench.lib, "rss": bench.rss, "scale": bench.scale, "hosts": bench.hosts,
         "lint": bench.lint}[name]()
    print()
    print(f"Machine: {machine()}")
    print()
    print(bench.table())


if __name__ == "__main__":
    main()
