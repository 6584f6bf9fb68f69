"""Dask clients for the batch jobs: a local cluster by default, or a scheduler's address.

What a run creates it also closes, so no stray default client is left behind to capture
later dask work (xarray's file locks broke on one, found by a test).
"""

from __future__ import annotations

from typing import Any


def dask_client(scheduler: Any = None) -> tuple[Any, list[Any]]:
    """(client, what to close afterwards) for ``scheduler``: None (a 2-process
    ``LocalCluster``, one thread each: the work is CPU-bound Python and numpy), an address
    ``"tcp://host:port"`` (scaling out), or an existing ``Client``/``LocalCluster``."""
    from dask.distributed import Client, LocalCluster

    # distributed's constructors are unannotated (no stubs either): the ignores below
    if scheduler is None:
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2, threads_per_worker=1, processes=True
        )
        client = Client(cluster)  # type: ignore[no-untyped-call]
        return client, [client, cluster]
    if isinstance(scheduler, Client):
        return scheduler, []
    client = Client(scheduler)  # type: ignore[no-untyped-call]
    return client, [client]
