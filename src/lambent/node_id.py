"""This server's node id: a stable name for it among the nodes sharing one PostgreSQL.

Made once (a random uuid) and kept in `DATA/node-id`, so a server restarted on its data
dir is the same node (its async claims come back to it at once); a server on a new data
dir is a new node (the claims of the one it replaces lapse after their lease). Used
where a node must tell its own rows from the others' (the async queue's claims).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

NODE_ID_FILE = "node-id"


def load_or_create(data_dir: Path) -> str:
    path = data_dir / NODE_ID_FILE
    try:
        found = path.read_text().strip()
    except FileNotFoundError:
        found = ""
    if found:
        return found
    node = str(uuid.uuid4())
    tmp = path.with_name(f".{NODE_ID_FILE}.tmp")
    with open(tmp, "w") as fh:
        fh.write(node + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return node
