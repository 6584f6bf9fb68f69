"""The Parcels page: the mouza map and a khasra's record of rights."""
