"""How many lanes (concurrent batches) a mapping runs.

Lambda's SQS pollers add concurrency while messages wait and shed it when the queue is
empty. Here: a lane that took a full batch (the source had more) asks for one more lane,
a lane whose receive came back empty gives its own up; never fewer than one lane, never
more than the mapping's maximum (ScalingConfig.MaximumConcurrency, else the source's).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Scaler:
    maximum: int
    target: int = 1
    # How fast a lane is added: Lambda's SQS scaling adds up to 300 concurrent pollers a
    # minute; one per full batch is faster than that and bounded by the maximum.
    initial: int = 1

    def __post_init__(self) -> None:
        self.target = max(1, min(self.maximum, self.initial))

    def full_batch(self) -> bool:
        """A batch came back full: the backlog is there. True when a lane should start."""
        if self.target < self.maximum:
            self.target += 1
            return True
        return False

    def idle(self) -> None:
        """A receive found nothing: one lane fewer (down to one)."""
        self.target = max(1, self.target - 1)

    def resize(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.target = min(self.target, self.maximum)
