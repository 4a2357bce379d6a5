"""Review access: the bearer token of the API, the login session of the HTML forms, and CSRF tokens.

- API: `Authorization: Bearer <ICC_REVIEW_TOKEN>`, compared in constant time.
- HTML: logging in with the token sets a signed session cookie naming the reviewer (HttpOnly, SameSite=Strict).
- CSRF: every visitor gets a random cookie; forms carry an HMAC of it (a signed double-submit token), so a
  page on another site can neither read nor forge the form field. The login form is protected the same way.
- A save sets a short-lived signed cookie that the practice page reads once, to say the review was saved.
Cookies are signed with a key derived from the secret key and the review token: changing the token logs everyone
out. The secret key is kept in a file readable by its owner only, so that a restart does not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SESSION_COOKIE = "icc_review_session"
CSRF_COOKIE = "icc_csrf"
CSRF_FIELD = "csrf_token"
SAVED_COOKIE = "icc_review_saved"  # the practice page says once that its review was saved
SAVED_SECONDS = 60  # long enough for the redirect after a save to be followed, not to show on a later visit
SECRET_KEY_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ReviewAccess:
    """Checks tokens and signs cookies for one running app."""

    secret_key: bytes
    review_token: str | None
    session_seconds: int

    @property
    def enabled(self) -> bool:
        return self.review_token is not None

    def _key(self, purpose: str) -> bytes:
        return hmac.new(self.secret_key, f"{purpose}\x00{self.review_token or ''}".encode(), hashlib.sha256).digest()

    def token_matches(self, candidate: str | None) -> bool:
        if not self.enabled or not candidate:
            return False
        return hmac.compare_digest(candidate.encode("utf-8"), self.review_token.encode("utf-8"))

    def bearer_matches(self, authorization: str | None) -> bool:
        scheme, _, value = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and self.token_matches(value.strip())

    # -- sessions ------------------------------------------------------------------------------------------
    def session_cookie(self, reviewer: str, now: float | None = None) -> str:
        # sid: the login's own id, so that logging out can end it on the server too
        payload = _b64(json.dumps({"r": reviewer, "exp": int((now or time.time()) + self.session_seconds),
                                   "sid": secrets.token_urlsafe(12)}).encode())
        return f"{payload}.{_b64(hmac.new(self._key('session'), payload.encode(), hashlib.sha256).digest())}"

    def session(self, cookie: str | None, now: float | None = None) -> dict | None:
        """What a session cookie holds (reviewer `r`, expiry `exp`, login id `sid`), or None if it is missing,
        forged or expired."""
        if not self.enabled or not cookie or "." not in cookie:
            return None
        payload, _, signature = cookie.partition(".")
        expected = _b64(hmac.new(self._key("session"), payload.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(signature, expected):
            return None
        try:
            data = json.loads(_unb64(payload))
        except ValueError:
            return None
        return data if isinstance(data, dict) and data.get("exp", 0) > (now or time.time()) else None

    def reviewer_from(self, cookie: str | None, now: float | None = None) -> str | None:
        """The reviewer a session cookie names, or None if it is missing, forged or expired."""
        data = self.session(cookie, now)
        return data.get("r") if data else None

    # -- CSRF ----------------------------------------------------------------------------------------------
    @staticmethod
    def new_csrf_cookie() -> str:
        return secrets.token_urlsafe(24)

    def csrf_token(self, cookie: str) -> str:
        return _b64(hmac.new(self._key("csrf"), cookie.encode(), hashlib.sha256).digest())

    def csrf_valid(self, cookie: str | None, submitted: str | None) -> bool:
        if not cookie or not submitted:
            return False
        return hmac.compare_digest(self.csrf_token(cookie), submitted)


    # -- the confirmation of a save -------------------------------------------------------------------------
    def saved_marker(self, practice_id: str) -> str:
        """The cookie a save sets for its practice's page to say the review was saved: signed, so that only a save
        here sets it, not an address or a cookie put there by anyone else."""
        return _b64(hmac.new(self._key("saved"), practice_id.encode("utf-8"), hashlib.sha256).digest())

    def saved_marker_valid(self, cookie: str | None, practice_id: str) -> bool:
        return bool(cookie) and hmac.compare_digest(cookie, self.saved_marker(practice_id))


def local_path(target: str) -> str:
    """`target` when it is a path of this site, else '/': never a redirect to another site ('//host',
    '/\\host', or a path with control characters that browsers drop)."""
    parts = urlsplit(target)
    local = (target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc
             and "\\" not in target and not any(ord(ch) < 32 or ord(ch) == 127 for ch in target))
    return target if local else "/"


def stored_secret_key(path: Path) -> bytes:
    """The secret key kept in `path`, made there (mode 0600) when no file is there yet. A file that is not a whole
    key (empty or cut short, or longer), a symbolic link or anything but a regular file at `path` is refused
    (OSError saying to remove it), never replaced or followed.

    Servers starting together agree on one key: a new key is published only where no file is (a hard link of the
    finished file), and a server that finds one already there reads that one instead."""
    for _ in range(3):
        key = _read_key_file(path)
        if key is not None and len(key) == SECRET_KEY_BYTES:
            return key
        if key == b"":  # never one of ours: a key is published whole, so this file was written some other way
            raise OSError(f"{path} is empty, not a key of {SECRET_KEY_BYTES} bytes (a key file left partly written?): "
                          "remove it to make a new one")
        if key is not None:
            raise OSError(f"{path} holds {len(key)} bytes, not a key of {SECRET_KEY_BYTES}: remove it to make a new one")
        candidate = secrets.token_bytes(SECRET_KEY_BYTES)
        # Written aside, then linked in place: a server stopped halfway never leaves half a key.
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        try:
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                out.write(candidate)
                out.flush()
                os.fsync(out.fileno())
            os.link(partial, path)
            return candidate
        except FileExistsError:
            continue  # another server published its key first: read it
        finally:
            partial.unlink(missing_ok=True)
    raise OSError(f"no whole secret key could be kept in {path}")


def _read_key_file(path: Path) -> bytes | None:
    """The bytes of the key file at `path`, None when there is none. The file is opened without following a symbolic
    link (someone who can write the folder could point it at a key of their choosing, or have the server chmod a
    file of theirs) and must be a regular file: anything else is an OSError, as an unreadable file is.
    A whole key that others can read is made its owner's only, on the file opened and not on the path."""
    try:
        # O_NONBLOCK: a named pipe put there does not hold the server up (a regular file reads as usual)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if path.is_symlink():  # O_NOFOLLOW refuses it (ELOOP), even one pointing nowhere
            raise OSError(f"{path} is a symbolic link, not the key file itself: remove it to make a new key") from exc
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # a folder, a named pipe, a device
        os.close(fd)
        raise OSError(f"{path} is not a regular file: remove it to make a new key")
    with os.fdopen(fd, "rb") as file:
        key = file.read()
        if len(key) == SECRET_KEY_BYTES and info.st_mode & 0o077:
            os.fchmod(fd, 0o600)  # a copy that others can read: back to its owner only
        return key
