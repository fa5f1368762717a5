"""The `samverkan` console script: one subcommand per public contract (administration,
evaluation, the terminal chat and `serve`). The top layer: it may use every other package."""
