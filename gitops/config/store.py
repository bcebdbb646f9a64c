"""The config repository as git objects: what every command loads, read at a ref without a working tree.

The one place that turns the git adapter's blobs (gitops.gitstore) into a validated config repository.
"""

from __future__ import annotations

from gitops.config.files import TreeFiles
from gitops.config.loader import ConfigRepo, load_config
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout


def tree_files(checkout: ConfigCheckout, ref: str, *, preload: tuple[str, ...]) -> TreeFiles:
    """The files at `ref` in memory: those under the `preload` folders read at once (one `cat-file`), any
    other on first use. Loading a config repo from it needs no working tree."""
    links: set[str] = set()
    ids = plumbing.blob_ids(checkout, ref, links=links)
    eager = [p for p in ids if p.startswith(preload)]
    contents = dict(zip(eager, plumbing.cat_blobs(checkout, [ids[p] for p in eager]), strict=True))
    return TreeFiles(
        ids, contents, lambda path: plumbing.cat_blobs(checkout, [ids[path]])[0], frozenset(links)
    )


def load_checkout(checkout: ConfigCheckout) -> ConfigRepo:
    """Load (validate) the config at the checkout's HEAD from the git objects in memory, so a clone made
    without a working tree (`--no-checkout`) never writes hundreds of tenant files to disk."""
    files = tree_files(checkout, "HEAD", preload=("envs/", "pipelines/", "calendars/"))
    return load_config(checkout.root, files)
