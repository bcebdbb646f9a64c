from gitops.cli.main import run

run()
