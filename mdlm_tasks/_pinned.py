"""Data files pinned to one commit of a public GitHub repository: fetched once, SHA-256-checked, cached.

For benchmarks whose data lives only in a GitHub repository (KOR-Bench), or whose repository
grants no licence to redistribute it (ParallelBench), so the package cannot ship the files.
Each file is read from a local checkout named by an environment variable, else from the user
cache, else from ``raw.githubusercontent.com`` at the pinned commit (then cached). Whatever the
source, the bytes must match the recorded SHA-256: a moved branch, an edited checkout or a
truncated download fails loudly instead of silently changing the benchmark.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def user_cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/mdlm_bench/<parts>`` (``~/.cache/mdlm_bench/...`` when the variable is unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base, "mdlm_bench", *parts)


@dataclass(frozen=True)
class GitHubPin:
    """A public GitHub repository at a fixed commit, whose files are read raw and checked."""

    repo: str
    """``owner/name`` on GitHub."""
    commit: str
    """The full commit hash every file is read at (never a branch: branches move)."""
    env_var: str
    """Environment variable that may name a local checkout of ``repo``, read instead of the network."""
    label: str
    """Short name used in messages and as the cache folder (``kor_bench``, ``parallelbench``)."""

    def url(self, path: str) -> str:
        """The raw URL of ``path`` (relative to the repository root) at the pinned commit."""
        return f"https://raw.githubusercontent.com/{self.repo}/{self.commit}/{path}"

    def cache_path(self, path: str) -> Path:
        """Where the verified copy of ``path`` is kept once fetched."""
        return user_cache_dir(self.label, self.commit[:12]) / path

    def _how_to_fix(self) -> str:
        return (
            f"Either run once with network access (the file is then cached), or clone "
            f"https://github.com/{self.repo}, check out {self.commit}, and set {self.env_var} to the clone's folder."
        )

    def read(self, path: str, sha256: str) -> bytes:
        """The bytes of one file: from ``$<env_var>``, the cache, or the pinned URL; always checked.

        Args:
            path: The file's path relative to the repository root.
            sha256: Its expected SHA-256 (hex) at the pinned commit.

        Raises:
            FileNotFoundError: When the checkout lacks the file, or nothing is cached and the fetch fails.
            ValueError: When the bytes do not match ``sha256``.
        """
        fetched = False
        checkout = os.environ.get(self.env_var)
        if checkout:
            origin = Path(checkout) / path
            if not origin.is_file():
                raise FileNotFoundError(
                    f"{self.env_var}={checkout} has no {path}: it should be a checkout of {self.repo} at {self.commit}."
                )
            data = origin.read_bytes()
        elif (origin := self.cache_path(path)).is_file():
            data = origin.read_bytes()
        else:
            data, fetched = self._download(path), True
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha256:
            where = self.url(path) if fetched else str(origin)
            raise ValueError(
                f"{self.label}: {where} has SHA-256 {digest}, expected {sha256} ({self.repo} at {self.commit})"
            )
        if fetched:  # cache only verified bytes, and never a half-written file
            target = self.cache_path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f"{target.name}.{os.getpid()}.part")
            partial.write_bytes(data)
            partial.replace(target)
        return data

    def _download(self, path: str) -> bytes:
        url = self.url(path)
        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (fixed https URL)
                return response.read()
        except OSError as error:
            raise FileNotFoundError(
                f"{self.label}: could not fetch {url} ({error}), and no copy is cached at "
                f"{self.cache_path(path)}. {self._how_to_fix()}"
            ) from error
