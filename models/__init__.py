"""Models: encroachment segmentation, crop type and yield, and the model registry.

Empty until the models issue lands; trained weights and model cards will live here and
load with no network.
"""
