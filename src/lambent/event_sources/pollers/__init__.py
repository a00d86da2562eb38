"""Event source mapping pollers: the framework every source (SQS now; Kinesis and RabbitMQ
later) plugs into.

How the pieces fit:

    PollerSupervisor (supervisor.py)   one per node; every `interval` reads the mappings
      |  of the store, takes or renews a lease per mapping it can serve (leases.py: one
      |  node per mapping across a cluster on one database), settles transient States
      |  (Creating/Enabling/Updating -> Enabled, Disabling -> Disabled) once its poller
      |  runs or has stopped, and starts, restarts (changed settings) or stops pollers.
      v
    MappingPoller (mapping.py)         one per running mapping: up to `concurrency` lanes,
      |  each collecting a batch (batching.py: BatchSize, the batching window, the 6 MB
      |  cap), invoking the function synchronously (invoking.py: InvokeService.attempt,
      |  under the function's admission lease, so reserved concurrency and the account
      |  quota hold; a throttle backs the lane off) and handing the outcome back to the
      |  source. Lanes scale up while batches come back full, down when receives are
      |  empty (scaling.py), between 1 and the source's maximum.
      v
    Source (source.py)                 what a kind of event source implements:

        receive(max_records, wait_s) -> list[Record]   records now (or after up to
                                                       wait_s of long polling), leased to
                                                       this poller (SQS: made invisible)
        event(records) -> bytes                        the function's payload, AWS's shape
        settle(records, result)                        after the invoke: Success deletes
                                                       all, Failure(ids) returns those
                                                       (None: every record)
        backlog() -> Backlog                           records waiting, age of the oldest
        max_concurrency -> int                         the lanes this mapping may use
        close()

    A SourceFactory builds a Source from a mapping document (the stored ESM); App
    registers one per SourceKind. A mapping whose kind has no factory is left alone (its
    State still settles, as before pollers existed).

Delivery is at least once: a record is settled only after its invoke answered, so a node
that dies mid-batch leaves its records to the source's own redelivery (SQS: the visibility
timeout), and a lease that lapses lets another node take the mapping over.
"""
