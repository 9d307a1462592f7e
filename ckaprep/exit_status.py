"""Process exit codes. Scripts rely on them, so values never change."""

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0
    CHECKS_FAILED = 1
    USAGE = 2  # bad input, malformed exercise file, or no active exercise
    CLUSTER = 3  # cluster unreachable, kubeconfig unusable, credentials rejected, or permission denied
    IMAGE_PULL = 4  # a pod image cannot be pulled
    TIMEOUT = 5  # something did not become ready, or a namespace stayed terminating
    UNSUPPORTED = 6  # the cluster lacks what the exercise requires (network-policy, nodes, dual-stack)
    BUG = 70  # an unexpected error inside ckaprep (EX_SOFTWARE); the traceback is saved
    OUTPUT = 74  # standard output cannot be written: a full disk, a closed stream (EX_IOERR)
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT
