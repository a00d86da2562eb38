"""Asynchronous invocation that loses nothing: a durable queue, a scheduler that runs each
function's events within its free concurrency, AWS's retry policy, destinations and
dead-letter targets. `service.AsyncInvocations` ties them up."""
