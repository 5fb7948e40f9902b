"""The release, read by hatch for the package metadata ([tool.hatch.version]): a literal in a
module of its own, innermost, so that `--version`, `import migrator` and the CLI's bug notice
need not read the installed metadata (~30 ms) nor import the package's API."""
__version__ = "0.1.0"
