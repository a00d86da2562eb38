"""Asynchronous invocation that loses nothing: a durable queue, a poller, AWS's retry
policy, destinations and dead-letter targets. `service.AsyncInvocations` ties them up."""
