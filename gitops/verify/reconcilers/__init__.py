"""The reconcilers verify waits for (Argo CD Application, Flux Kustomization, Flux HelmRelease): one module
per kind behind the `Reconciler` protocol (protocol.py), listed once in registry.py. Nothing else in
gitops/ branches on the kind."""
