"""Lambent as a cluster: frontends, workers and the policy that joins them.

Everything shared lives in PostgreSQL (documents, the async queue, logs, blobs, membership
and leases); what is here decides, from views of that state, where work goes. The policy
(`placement.py`) is pure so that it can be proved on tables and properties, and reused as
it is by the discrete-event simulation in `bench/cluster_sim.py`. `docs/CLUSTER.md`
describes the topology, its guarantees and its failure modes.
"""
