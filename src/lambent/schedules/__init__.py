"""EventBridge Scheduler's domain: schedule expressions (shared with EventBridge rules)."""
