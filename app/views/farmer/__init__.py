"""The Farmer page: a farmer's own parcels and advisories, behind a one-time code."""
