"""Standard output and error whatever is at their other end: ckaprep ends with its own exit
status and at most one line on stderr, never a traceback.

- A character the streams' encoding cannot hold (`PYTHONIOENCODING=ascii`) is written as an
  escape (`\\u2192`) instead of failing.
- A reader that stops early (`ckaprep list | head -1`) has what it wanted: the rest of the
  output is dropped, and the command ends as it would have, with its own exit status.
- Output that cannot be written (a full disk, `> /dev/full`, stdout closed with `>&-`) is an
  OutputError: one line on stderr, exit status 74 (ExitStatus.OUTPUT).
- What cannot be written to stderr is dropped: there is nowhere left to say it.

The command line installs these streams once, before anything is printed (`prepare`); only
the standard library and `ckaprep.errors` are loaded for it, so the kept pages stay fast.
"""

from __future__ import annotations

import io
import os
import sys

from ckaprep.errors import OutputError


class _Descriptor(io.RawIOBase):
    """Writes to a file descriptor and turns a failed write into what the module says."""

    def __init__(self, fd: int, name: str, *, closed: bool = False):
        super().__init__()
        self._fd, self.name = fd, name
        self._problem = "it is closed" if closed else None
        self._dropping = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        if self._dropping or self._problem:
            return False
        try:
            return os.isatty(self._fd)
        except OSError:
            return False

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        size = len(view)
        if self._dropping or not size:
            return size
        if self._problem:
            self._fail(self._problem)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except BrokenPipeError:  # the reader has what it wanted
            self._dropping = True
        except OSError as exc:
            self._fail(exc.strerror or str(exc))
        return size

    def _fail(self, problem: str) -> None:
        self._dropping = True  # said once; what follows is dropped, also at exit
        if self._fd == 1:
            raise OutputError(f"cannot write to standard output: {problem}")


def _guarded(stream, fd: int, name: str):
    closed = stream is None
    if closed:  # fd is closed: plug it, so that no file ckaprep opens lands on it
        plug = os.open(os.devnull, os.O_WRONLY)
        if plug != fd:
            os.dup2(plug, fd)
            os.close(plug)
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return io.TextIOWrapper(
        _Descriptor(fd, name, closed=closed),
        encoding=encoding,
        errors="backslashreplace",
        line_buffering=getattr(stream, "line_buffering", False),
        write_through=getattr(stream, "write_through", False),
    )


def prepare() -> None:
    """Put the guarded streams in place of sys.stdout and sys.stderr (once)."""
    if isinstance(getattr(sys.stdout, "buffer", None), _Descriptor):
        return
    for name, fd in (("stderr", 2), ("stdout", 1)):
        stream = getattr(sys, name)
        if stream is not None:
            try:
                stream.flush()
                if stream.fileno() != fd:
                    continue  # not the process's own stream (a test's capture): left alone
            except (AttributeError, OSError, ValueError):
                continue
        setattr(sys, name, _guarded(stream, fd, f"<{name}>"))


def finish() -> None:
    """Write out what is still buffered: a failure raises OutputError now, not at exit."""
    for stream in (sys.stderr, sys.stdout):
        if stream is not None:
            stream.flush()
