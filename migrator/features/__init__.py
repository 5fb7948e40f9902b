"""Features that contribute edits to the plan: settings, hosts.toml, imports."""
