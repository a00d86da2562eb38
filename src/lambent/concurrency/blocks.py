"""How many admission tokens a node takes from the cluster ledger, and how many it gives back.

Pure arithmetic, so the policy is tested on its own and the simulation can reuse it. A node
admits from tokens it holds; the ledger (ledger.py) is asked only when they run out. Two
forces pull against each other: a bigger block means fewer PostgreSQL round trips per
invoke, a smaller one leaves more of the quota where another node can take it without
asking a peer to give some back. So a block grows with the node's own concurrency (a busy
node asks rarely), is capped by a share of the pool (one node cannot hoard a small
reservation), and whatever a whole idle period did not use goes back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BlockPolicy:
    # Never more slack than this in one ask, however busy the node.
    max_slack: int = 64
    # Slack is at most capacity // share: a pool of 8 is taken one token at a time.
    share: int = 8
    # Slack grows to used // growth: at 64 running, 32 more are asked for at once.
    growth: int = 2

    def ask(self, capacity: int, held: int, used: int, waiting: int) -> int:
        """Tokens to ask for now: what the waiters need beyond the idle tokens held, plus
        slack for the next arrivals. 0 when nothing is needed or the pool has no room."""
        if capacity <= 0:
            return 0
        need = used + waiting - held
        if need <= 0:
            return 0
        slack = min(self.max_slack, capacity // self.share, used // self.growth)
        return min(capacity, need + max(0, slack))

    def surplus(self, held: int, used: int, peak: int) -> int:
        """Tokens to give back at the end of an idle period: those above the most that were
        in use at once during it (`peak`, at least `used`)."""
        return max(0, held - max(used, peak))

    def idle(self, held: int, used: int) -> int:
        """Tokens a peer asks for back: every one not running an invocation."""
        return max(0, held - used)
