"""Batch jobs: pipelines that combine storage, imagery and models."""
