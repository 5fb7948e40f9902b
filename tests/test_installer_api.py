"""The library as installer tooling calls it (issue 19): real functions and classes with
docstrings, a version, misspelt names refused, and examples/installer.py clean under mypy --strict
and doing what Kubespray and the NVIDIA toolkit do, for every config version."""
from __future__ import annotations

import importlib.util
import inspect
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import migrator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "installer.py"

_spec = importlib.util.spec_from_file_location("examples_installer", EXAMPLE)
assert _spec is not None and _spec.loader is not None
installer = importlib.util.module_from_spec(_spec)  # by path: PyPI has a package "installer"
_spec.loader.exec_module(installer)


def _mypy(tmp_path: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("mypy", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("mypy is not installed (pip install '.[test]')")
    # run where an installer's own code would be: migrator is the installed package (py.typed),
    # not this checkout's sources
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
                           "--cache-dir", str(tmp_path / "cache"),
                           *(str(f.resolve()) for f in files)],
                          capture_output=True, text=True, cwd=tmp_path)


def test_example_is_clean_under_mypy_strict_and_a_typo_is_not(tmp_path: Path) -> None:
    assert _mypy(tmp_path, EXAMPLE).stdout == ""
    typo = tmp_path / "typo.py"
    typo.write_text("import migrator\ncfg = migrator.load('version = 2')\n"
                    "cfg.sandbox_imag = 'x'\nn: int = migrator.load('')\n")
    out = _mypy(tmp_path, typo).stdout
    assert 'typo.py:3: error: "Config" has no attribute "sandbox_imag"' in out
    assert "typo.py:4: error: Incompatible types in assignment" in out
    assert "not callable" not in out


def test_public_names_are_real_and_documented() -> None:
    assert inspect.isfunction(migrator.load) and inspect.isfunction(migrator.migrate)
    params = inspect.signature(migrator.load).parameters
    assert list(params) == ["text", "version", "containerd", "file"]
    assert "any version" in (migrator.load.__doc__ or "")
    for name in migrator.__all__:
        obj = getattr(migrator, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__ and obj.__doc__ != type(obj).__doc__, name
    assert issubclass(migrator.LossError, migrator.ConfigError)
    assert migrator.core.loading.MAX_BYTES > 0      # the loading submodule keeps its own name


def test_version_is_the_packages() -> None:
    """One version: the package's literal, which pyproject declares dynamic and hatch reads,
    is what the installed distribution says."""
    from importlib import metadata
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["dynamic"] == ["version"] and "version" not in pyproject["project"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "migrator/_version.py"
    assert migrator.__version__ == metadata.version("containerd-migrate")


@pytest.mark.parametrize("stmt, message", [
    ("cfg.sandbox_imag = 'x'", "no setting 'sandbox_imag'; did you mean 'sandbox_image'?"),
    ("cfg.systemdcgroup", "no setting 'systemdcgroup'; did you mean 'systemd_cgroup'?"),
    ("cfg.runtime('nvidia').runtime_typ = 'x'", "did you mean 'runtime_type'?"),
    ("del cfg.runtime('nvidia').binary_name", "a runtime has no setting 'binary_name'"),
])
def test_misspelt_names_raise_with_a_suggestion(stmt: str, message: str) -> None:
    cfg = migrator.load("version = 2\n")
    with pytest.raises(AttributeError, match=message.replace("(", r"\(").replace("?", r"\?")):
        exec(stmt, {"cfg": cfg})
    assert cfg.edits == {}
    cfg.sandbox_image = "registry.k8s.io/pause:3.10"    # the real names still work
    cfg.text = cfg.text
    assert cfg.edits == {"sandbox_image": "registry.k8s.io/pause:3.10"}


V1 = "[plugins.cri]\n  sandbox_image = \"old\"\n"
V4 = ('version = 4\n[plugins."io.containerd.server.v1.grpc"]\n'
      '  address = "/run/containerd/containerd.sock"\n')


@pytest.mark.parametrize("text", [V1, (ROOT / "examples" / "config-v2.toml").read_text(),
                                  "version = 3\n", V4], ids=["v1", "v2", "v3", "v4"])
def test_example_installer_configures_any_version(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    assert installer.main([str(path)]) == 0
    out = path.read_text()
    cfg = migrator.load(out)
    assert cfg.version == migrator.load(text).version
    assert cfg.systemd_cgroup is True and cfg.sandbox_image == "registry.k8s.io/pause:3.10"
    assert cfg.runtime("nvidia").runtime_type == "io.containerd.runc.v2"
    assert dict(cfg.runtime("nvidia").options) == {
        "BinaryName": "/usr/bin/nvidia-container-runtime", "SystemdCgroup": True}
    assert cfg.registry_config_path == "/etc/containerd/certs.d"
    assert (tmp_path / "config.toml.bak").read_text() == text
    assert installer.main([str(path)]) == 0          # a second run changes nothing
    assert path.read_text() == out


def test_example_installer_refuses_bad_input_and_writes_nothing(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]
                                                                ) -> None:
    path = tmp_path / "config.toml"
    path.write_text("version = 2\n[plugins\n")
    assert installer.main([str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"{path}:2:")
    assert path.read_text() == "version = 2\n[plugins\n"
    assert not (tmp_path / "config.toml.bak").exists()
