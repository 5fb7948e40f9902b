"""`python -m migrator.cli`: the same command as `containerd-migrate`."""
from migrator.cli import main

main()
