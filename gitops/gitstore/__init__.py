"""The one git adapter: GitPython (checkout) and git plumbing. Nothing else in gitops/ imports git."""
