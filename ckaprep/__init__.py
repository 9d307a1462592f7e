"""ckaprep: hands-on ClusterIP Service exercises for the CKA exam, graded on a live cluster."""

__version__ = "0.1.0"
