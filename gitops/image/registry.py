"""OCI distribution API client (requests): manifests, blobs, tags; auth, retries with back-off, time-outs.

Errors never leak `requests` exceptions: connection failures and 5xx answers are retried, then raised as
ExternalError naming the registry; 404 on a manifest or blob is `NotFound` (an ExternalError).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests

from gitops.errors import ExternalError
from gitops.image.auth import Challenge, Credentials, credentials_for, parse_challenge
from gitops.image.reference import ImageRef
from gitops.redact import redact, register_secret

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST)
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
CHUNK_SIZE = 8 * 1024 * 1024
_RETRY_STATUS = frozenset({500, 502, 503, 504, 429})


class NotFound(ExternalError):
    """The registry answered 404 for a manifest or blob."""


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Manifest:
    raw: bytes
    media_type: str
    digest: str

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.raw)
        return data


@dataclass
class _Auth:
    credentials: Credentials | None
    tokens: dict[str, str] = field(default_factory=dict)
    basic: bool = False


class RegistryClient:
    """One registry host. `scheme` is "https" (default) or "http" (loopback test registries)."""

    def __init__(
        self,
        host: str,
        *,
        scheme: str = "https",
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        credentials: Credentials | None = None,
    ) -> None:
        self.host = host
        self.base = f"{scheme}://{host}"
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._auth = _Auth(credentials if credentials is not None else credentials_for(host))
        self._session = requests.Session()

    @classmethod
    def for_ref(cls, ref: ImageRef, *, timeout: float = 30.0, retries: int = 4) -> RegistryClient:
        return cls(ref.api_host, scheme=ref.default_scheme, timeout=timeout, retries=retries)

    # ------------------------------------------------------------------ transport

    def _send(self, method: str, url: str, scope: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        token = self._auth.tokens.get(scope)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        auth = self._basic() if self._auth.basic and not token else None
        return self._session.request(
            method, url, headers=headers, auth=auth, timeout=self.timeout, allow_redirects=True, **kwargs
        )

    def _basic(self) -> tuple[str, str] | None:
        creds = self._auth.credentials
        return (creds.username, creds.password) if creds else None

    def _request(
        self, method: str, url: str, *, scope: str, ok: Iterable[int] = (200,), **kwargs: Any
    ) -> requests.Response:
        url = url if url.startswith("http") else urljoin(self.base, url)
        allowed = set(ok)
        for attempt in range(self.retries + 1):
            try:
                resp = self._send(method, url, scope, **kwargs)
                if resp.status_code == 401 and self._authenticate(resp, scope):
                    resp = self._send(method, url, scope, **kwargs)
            except requests.RequestException as exc:
                if attempt >= self.retries:
                    raise ExternalError(
                        f"registry {self.host} unreachable ({method} {_path(url)}): {type(exc).__name__}",
                        hint="check that the registry runs and the host/port are right",
                    ) from None
            else:
                if resp.status_code in allowed or resp.status_code not in _RETRY_STATUS:
                    break
                if attempt >= self.retries:
                    break
            time.sleep(self.backoff * (2**attempt))
        return self._check(resp, method, url, allowed)

    def _check(self, resp: requests.Response, method: str, url: str, ok: set[int]) -> requests.Response:
        if resp.status_code in ok:
            return resp
        detail = _error_detail(resp)
        message = f"registry {self.host}: {method} {_path(url)} → HTTP {resp.status_code}{detail}"
        if resp.status_code == 404:
            raise NotFound(message)
        hint = (
            "check the credentials (docker login or ODOO_GITOPS_REGISTRY_*)"
            if resp.status_code in (401, 403)
            else None
        )
        raise ExternalError(message, hint=hint)

    def _authenticate(self, resp: requests.Response, scope: str) -> bool:
        challenge = parse_challenge(resp.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return False
        if challenge.scheme == "basic":
            if self._auth.basic or not self._auth.credentials:
                return False
            self._auth.basic = True
            return True
        if challenge.scheme == "bearer":  # first use, or the cached token expired: fetch a fresh one
            self._auth.tokens[scope] = self._fetch_token(challenge, scope)
            return True
        return False

    def _fetch_token(self, challenge: Challenge, scope: str) -> str:
        realm = challenge.params.get("realm")
        if not realm:
            raise ExternalError(f"registry {self.host}: bearer challenge without a realm")
        params = {
            "service": challenge.params.get("service", ""),
            "scope": challenge.params.get("scope", scope),
        }
        try:
            resp = requests.get(realm, params=params, auth=self._basic(), timeout=self.timeout)
        except requests.RequestException as exc:
            raise ExternalError(f"token service {_path(realm)} unreachable: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise ExternalError(
                f"registry {self.host}: token request refused (HTTP {resp.status_code})",
                hint="check the credentials (docker login or ODOO_GITOPS_REGISTRY_*)",
            )
        body = resp.json()
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str):
            raise ExternalError(f"registry {self.host}: token service answered without a token")
        register_secret(token)  # a registry may echo it back in an error body
        return token

    # ------------------------------------------------------------------ manifests and tags

    def get_manifest(self, repo: str, reference: str) -> Manifest:
        resp = self._request(
            "GET",
            f"/v2/{repo}/manifests/{reference}",
            scope=_pull(repo),
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        raw = resp.content
        digest = sha256_digest(raw)
        if reference.startswith("sha256:") and digest != reference:
            raise ExternalError(f"registry {self.host}: manifest {repo}@{reference} has digest {digest}")
        media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
        return Manifest(raw=raw, media_type=json.loads(raw).get("mediaType") or media_type, digest=digest)

    def find_manifest(self, repo: str, reference: str) -> Manifest | None:
        try:
            return self.get_manifest(repo, reference)
        except NotFound:
            return None

    def manifest_exists(self, repo: str, digest: str) -> bool:
        resp = self._request(
            "HEAD",
            f"/v2/{repo}/manifests/{digest}",
            scope=_pull(repo),
            ok=(200, 404),
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        return resp.status_code == 200

    def put_manifest(self, repo: str, reference: str, raw: bytes, media_type: str) -> str:
        self._request(
            "PUT",
            f"/v2/{repo}/manifests/{reference}",
            scope=_push(repo),
            ok=(201, 200),
            data=raw,
            headers={"Content-Type": media_type},
        )
        return sha256_digest(raw)

    def list_tags(self, repo: str) -> list[str]:
        resp = self._request("GET", f"/v2/{repo}/tags/list", scope=_pull(repo), ok=(200, 404))
        if resp.status_code == 404:
            return []
        return sorted(resp.json().get("tags") or [])

    # ------------------------------------------------------------------ blobs

    def blob_exists(self, repo: str, digest: str) -> bool:
        resp = self._request("HEAD", f"/v2/{repo}/blobs/{digest}", scope=_pull(repo), ok=(200, 404))
        return resp.status_code == 200

    def get_blob(self, repo: str, digest: str) -> bytes:
        data = self._request("GET", f"/v2/{repo}/blobs/{digest}", scope=_pull(repo)).content
        if sha256_digest(data) != digest:
            raise ExternalError(f"registry {self.host}: blob {repo}@{digest} does not match its digest")
        return data

    def iter_blob(self, repo: str, digest: str) -> Iterator[bytes]:
        resp = self._request("GET", f"/v2/{repo}/blobs/{digest}", scope=_pull(repo), stream=True)
        try:
            yield from resp.iter_content(CHUNK_SIZE)
        except requests.RequestException as exc:
            raise ExternalError(
                f"registry {self.host}: reading blob {digest} failed: {type(exc).__name__}"
            ) from None

    def push_blob(self, repo: str, data: bytes, *, chunk_size: int = CHUNK_SIZE) -> str:
        """Upload `data` unless present: monolithic when small, chunked (PATCH) when larger than a chunk."""
        digest = sha256_digest(data)
        if self.blob_exists(repo, digest):
            return digest
        if len(data) <= chunk_size:
            location = self._start_upload(repo)
            self._finish_upload(repo, location, digest, data)
        else:
            self.push_blob_chunks(
                repo, digest, (data[i : i + chunk_size] for i in range(0, len(data), chunk_size))
            )
        return digest

    def push_blob_chunks(self, repo: str, digest: str, chunks: Iterable[bytes]) -> str:
        location, offset = self._start_upload(repo), 0
        for chunk in chunks:
            resp = self._request(
                "PATCH",
                location,
                scope=_push(repo),
                ok=(202,),
                data=chunk,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                },
            )
            offset += len(chunk)
            location = _location(resp, location)
        self._finish_upload(repo, location, digest, b"")
        return digest

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Cross-repository mount on the same registry; False when the registry started an upload instead."""
        resp = self._request(
            "POST",
            f"/v2/{repo}/blobs/uploads/",
            scope=_push(repo) + f" repository:{from_repo}:pull",
            ok=(201, 202),
            params={"mount": digest, "from": from_repo},
        )
        return resp.status_code == 201

    def copy_blob(self, source: RegistryClient, source_repo: str, repo: str, digest: str) -> None:
        """Make `digest` available in `repo` (mount on the same registry, else stream it across)."""
        if self.blob_exists(repo, digest):
            return
        if source.host == self.host and source_repo != repo and self.mount_blob(repo, digest, source_repo):
            return
        self.push_blob_chunks(repo, digest, source.iter_blob(source_repo, digest))

    def _start_upload(self, repo: str) -> str:
        resp = self._request("POST", f"/v2/{repo}/blobs/uploads/", scope=_push(repo), ok=(202,))
        return _location(resp, None)

    def _finish_upload(self, repo: str, location: str, digest: str, data: bytes) -> None:
        sep = "&" if "?" in location else "?"
        self._request(
            "PUT",
            f"{location}{sep}digest={digest}",
            scope=_push(repo),
            ok=(201,),
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )


def _pull(repo: str) -> str:
    return f"repository:{repo}:pull"


def _push(repo: str) -> str:
    return f"repository:{repo}:pull,push"


def _location(resp: requests.Response, fallback: str | None) -> str:
    location = resp.headers.get("Location") or fallback
    if not location:
        raise ExternalError(f"registry answered {resp.status_code} to an upload without a Location header")
    return urljoin(resp.url, location)


def _path(url: str) -> str:
    return redact(url.split("?", 1)[0])


def _error_detail(resp: requests.Response) -> str:
    try:
        errors = resp.json().get("errors") or []
    except (ValueError, AttributeError):
        return ""
    texts = [f"{e.get('code', '')}: {e.get('message', '')}" for e in errors if isinstance(e, Mapping)]
    return f" ({'; '.join(texts)})" if texts else ""
