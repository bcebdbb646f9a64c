"""The release board: one snapshot of environments × tenants (gitops.board.model), built from the config
repository's main and the forge's open PRs (gitops.board.collect), rendered by `status`, `pr show` and
`board --out`."""
