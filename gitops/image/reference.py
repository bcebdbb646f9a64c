"""Image references: `[host[:port]/]path[:tag][@sha256:<hex>]`, split into registry, repository and pin."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitops.errors import UsageError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
_TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_PATH_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_LOOPBACK_RE = re.compile(r"^(?:localhost|127\.\d+\.\d+\.\d+|\[::1\])(?::\d+)?$")


@dataclass(frozen=True, kw_only=True)
class ImageRef:
    """A parsed image reference. `host` is how users write it; `api_host` is what the API is served on."""

    host: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def repository(self) -> str:
        """`host/path`, the `docker-reference` cosign signs."""
        return f"{self.host}/{self.path}"

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.host == DOCKER_HUB else self.host

    @property
    def pinned(self) -> str:
        return f"{self.repository}@{self.pinned_digest}"

    @property
    def pinned_digest(self) -> str:
        """The digest; UsageError when the reference is not pinned."""
        if not self.digest:
            raise UsageError(f"{self} is not pinned by digest", hint="use REPOSITORY@sha256:<64 hex>")
        return self.digest

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def default_scheme(self) -> str:
        """Loopback registries speak plain HTTP (as docker and trivy assume); everything else HTTPS."""
        return "http" if _LOOPBACK_RE.fullmatch(self.host) else "https"

    def with_digest(self, digest: str) -> ImageRef:
        return ImageRef(host=self.host, path=self.path, digest=digest)

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _split_host(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    path = name if "/" in name else f"library/{name}"
    return DOCKER_HUB, path


def parse_image_ref(text: str, *, what: str = "image") -> ImageRef:
    """Parse `text`; UsageError naming the bad part otherwise."""
    name, _, digest = text.strip().partition("@")
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    host, path = _split_host(name)
    if not name or not _PATH_RE.fullmatch(path):
        raise UsageError(
            f"{what} {text!r}: invalid repository path {path!r}", hint="lowercase, e.g. reg/org/repo"
        )
    if tag is not None and not _TAG_RE.fullmatch(tag):
        raise UsageError(f"{what} {text!r}: invalid tag {tag!r}")
    if digest and not _DIGEST_RE.fullmatch(digest):
        raise UsageError(
            f"{what} {text!r}: invalid digest {digest!r}", hint="expected sha256:<64 hex digits>"
        )
    return ImageRef(host=host, path=path, tag=tag, digest=digest or None)


def parse_repository(text: str) -> ImageRef:
    """A repository without tag or digest, e.g. the `--repository` of `build`."""
    ref = parse_image_ref(text, what="repository")
    if ref.tag or ref.digest:
        raise UsageError(
            f"repository {text!r} must not carry a tag or digest", hint="e.g. registry:5000/odoo"
        )
    return ref


def pinned_ref(text: str) -> ImageRef:
    """An image that must be pinned by digest (sign, verify, scan)."""
    ref = parse_image_ref(text)
    if not ref.digest:
        raise UsageError(
            f"image {text!r} is not pinned by digest",
            hint="pass the digest printed by `odoo-gitops build`, e.g. reg/odoo@sha256:…",
        )
    return ref
