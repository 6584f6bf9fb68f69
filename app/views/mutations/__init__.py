"""The Mutations page: an officer enters and decides mutations (intiqal)."""
