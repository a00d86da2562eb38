"""Message brokers an operator registers (`lambent brokers add`) so event source mappings
can name them by an Amazon MQ ARN: `registry.Brokers`."""
