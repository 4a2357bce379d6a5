"""Settings of the web app, resolved once when the app is created and passed to it (nothing read later)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import DEFAULT_OUTPUT, Settings

REVIEW_TOKEN_ENV = "ICC_REVIEW_TOKEN"
REVIEWS_FILE = "reviews.sqlite"
# A shared secret guessed in a few thousand tries protects nothing: shorter tokens leave review off.
MIN_TOKEN_CHARS = 16
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class WebSettings:
    """Where the run's tables are, where reviews go, the review token and the upload limit."""

    data_dir: Path = DEFAULT_OUTPUT
    reviews_path: Path | None = None  # default: reviews.sqlite beside the tables
    review_token: str | None = None
    max_upload_bytes: int = 10 * MEGABYTE
    pipeline: Settings = field(default_factory=Settings)
    check_workers: int = 2  # checks running at once; each is CPU-bound on a 2-core machine
    check_wait_seconds: float = 20.0  # how long an upload waits for a free check before it is told to come back
    check_max_practices: int = 10  # a check reads a city's form, not an archive: more practices go to a batch run
    # ... and so many words (a form has 150 to 1,200; a check of 20,000 takes about 10 s, of 235,000 nearly 3 min)
    check_max_words: int = 20_000
    # None: checks run in the server's threads, with no time limit (tests); else in `check_workers` processes, each
    # check stopped with its process past so many seconds (`serve`: 60; a 20,000-word check takes 3 to 10 s)
    check_timeout_seconds: float | None = None
    reload_check_seconds: float = 2.0  # how often the tables are looked at for a newer run
    warm_up: bool = True  # run a tiny check at start so the first real one is fast
    session_hours: int = 12
    # Signs session and CSRF cookies. None: the key kept beside the review store (`secret_key_file`), so that a
    # restart neither logs reviewers out nor turns away the forms open in their browsers.
    secret_key: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, **overrides) -> "WebSettings":
        """Settings with the review token taken from ICC_REVIEW_TOKEN (the only setting read from the environment)."""
        token = os.environ.get(REVIEW_TOKEN_ENV) or None
        values = {"review_token": token} | {k: v for k, v in overrides.items() if v is not None}
        return cls(**values)

    @property
    def reviews_file(self) -> Path:
        return Path(self.reviews_path) if self.reviews_path else Path(self.data_dir) / REVIEWS_FILE

    @property
    def secret_key_file(self) -> Path:
        return self.reviews_file.with_name(self.reviews_file.name + ".key")

    @property
    def review_enabled(self) -> bool:
        return bool(self.review_token) and len(self.review_token) >= MIN_TOKEN_CHARS

    @property
    def review_off_reason(self) -> str | None:
        """Why review is off (None when it is on), for the log and the API's refusal."""
        if not self.review_token:
            return f"review is off: set {REVIEW_TOKEN_ENV} before starting the server"
        if len(self.review_token) < MIN_TOKEN_CHARS:
            return f"review is off: {REVIEW_TOKEN_ENV} must have at least {MIN_TOKEN_CHARS} characters"
        return None

    @property
    def max_body_bytes(self) -> int:
        """The whole request body: the upload plus the multipart envelope (headers, boundaries, other fields)."""
        return self.max_upload_bytes + 64 * 1024

    @property
    def max_upload_mb(self) -> int:
        return round(self.max_upload_bytes / MEGABYTE)
