"""Secrets at rest: sealed with AES-256-GCM under a master key that is not in the database.

SigV4 verification recomputes the signature with the caller's secret, so the server must
be able to read every secret back: hashing would not do, encryption does. A sealed value
is `aesgcm1:` + base64(nonce | ciphertext | tag); the associated data names the row and
field it belongs to, so a sealed secret copied onto another key's row does not open.

The master key is 32 random bytes in a file of its own (mode 600), by default
`DATA/master.key`, or wherever `--master-key-file` / `LAMBENT_MASTER_KEY_FILE` says (a
path outside the data dir keeps a backup of the data dir from carrying the key). A copy
of the database alone yields no secret: only sealed values and the access key ids.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "aesgcm1:"
KEY_BYTES = 32
NONCE_BYTES = 12
MASTER_KEY_FILE = "master.key"
ENV_VAR = "LAMBENT_MASTER_KEY_FILE"


class SealError(Exception):
    """A sealed value that this master key cannot open (another key, or tampered)."""


def is_sealed(value: object) -> bool:
    """Plaintext secrets never contain ':' (base64 and the key alphabet lack it)."""
    return isinstance(value, str) and value.startswith(PREFIX)


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a master key is {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)
        self._key = key

    @classmethod
    def generate(cls) -> Sealer:
        """A throwaway key (unit tests, the in-memory store)."""
        return cls(secrets.token_bytes(KEY_BYTES))

    def seal(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, value: str, context: str) -> str:
        if not is_sealed(value):
            raise SealError("not a sealed value")
        try:
            raw = base64.b64decode(value[len(PREFIX) :], validate=True)
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except (InvalidTag, ValueError) as exc:
            raise SealError("the master key does not open this value") from exc
        return plain.decode()

    def derive(self, purpose: str) -> bytes:
        """A key for one purpose (e.g. signing code URLs), derived rather than stored, so
        it is not in the database either (HMAC-SHA256 as a KDF over a fixed label)."""
        return hmac.new(self._key, f"lambent:{purpose}".encode(), hashlib.sha256).digest()


def master_key_path(data_dir: Path, configured: Path | None) -> Path:
    return configured if configured is not None else data_dir / MASTER_KEY_FILE


def load_existing(path: Path) -> Sealer:
    """The master key a running (or once-run) server made; a tool that writes secrets
    next to a server must seal them under the same key, never under a new one."""
    if not path.exists():
        raise SealError(
            f"no master key at {path}: start `lambent serve` on this data dir once, or point "
            f"--master-key-file (or ${ENV_VAR}) at the server's key"
        )
    return load_or_create(path)


def load_or_create(path: Path) -> Sealer:
    """The master key at `path`, made (mode 600) if there is none yet. An existing file
    readable by others is narrowed to 600 rather than refused: start-up fixes modes."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, stat.S_IMODE(path.stat().st_mode) & 0o600)
        key = path.read_bytes()
        try:
            return Sealer(key)
        except ValueError as exc:
            raise SealError(f"{path} is not a Lambent master key: {exc}") from exc
    key = secrets.token_bytes(KEY_BYTES)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return Sealer(key)
