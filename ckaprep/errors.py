"""Errors that end a command with a one-line message and a specific exit status."""

from ckaprep.exit_status import ExitStatus


class CkaprepError(Exception):
    exit_status = ExitStatus.USAGE

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UsageError(CkaprepError):
    exit_status = ExitStatus.USAGE


class ExerciseFileError(UsageError):
    """A malformed exercise file; the message names the file, the field and the problem."""

    def __init__(
        self,
        source: str,
        field: str,
        problem: str,
        line: int | None = None,
        column: int | None = None,
        more: tuple["ExerciseFileError", ...] = (),
    ):
        where = source + (f", line {line}" if line else "") + (f", column {column}" if column else "")
        self.alone = f"{where}: {field_for_people(field)}: {problem}"
        count = f"{len(more)} more problem" + ("s" if len(more) > 1 else "")
        super().__init__(self.alone + (f" (and {count}; `ckaprep validate` on the file lists them)" if more else ""))
        self.source, self.field, self.problem, self.line, self.column = source, field, problem, line, column
        self.more = tuple(more)

    @property
    def problems(self) -> list[str]:
        """This problem and every other one found in the same file, one message each."""
        return [self.alone, *(other.alone for other in self.more)]

    def at(self, line: int | None) -> "ExerciseFileError":
        """The same problem, with the line of the file it is on (1-based)."""
        return ExerciseFileError(self.source, self.field, self.problem, line, more=self.more) if line else self

    def with_more(self, more: list["ExerciseFileError"]) -> "ExerciseFileError":
        return ExerciseFileError(self.source, self.field, self.problem, self.line, self.column, more=tuple(more))


def field_for_people(field: str) -> str:
    """`checks[0].weight` as people count: `checks #1.weight`."""
    import re

    return re.sub(r"\[(\d+)\]", lambda m: f" #{int(m.group(1)) + 1}", field)


class Refused(UsageError):
    """A request the cluster refused as stated (HTTP 404, 409 or 422): the request was wrong for
    what the cluster holds, not the cluster unwell."""


class NotFound(Refused):
    """The object the request names does not exist (HTTP 404)."""


class AlreadyExists(Refused):
    """An object of that kind and name was created before (HTTP 409, reason AlreadyExists)."""


class Conflict(Refused):
    """The object changed since it was read (HTTP 409, reason Conflict): read it again and retry."""


class StateError(UsageError):
    """No active exercise, or another one is in the way."""


class ClusterError(CkaprepError):
    exit_status = ExitStatus.CLUSTER


class ClusterUnreachable(ClusterError):
    def __init__(self, message: str, *, reached_server: bool = True):
        super().__init__(message)
        # False when no request can have reached the API server (the connection was refused,
        # the name did not resolve, TLS failed): then nothing was created or changed.
        self.reached_server = reached_server


class CredentialsRejected(ClusterError):
    pass


class KubeconfigError(ClusterError):
    """The kubeconfig is missing, unreadable or unusable; the message names the file and field."""


class NoKubeconfig(KubeconfigError):
    """No kubeconfig at all: most likely no cluster yet (`doctor` says how to get one)."""


class PermissionDenied(ClusterError):
    pass


class NotOwnedError(UsageError):
    """A namespace exists but does not carry ckaprep's ownership label."""


class ImagePullError(CkaprepError):
    exit_status = ExitStatus.IMAGE_PULL

    def __init__(self, image: str, reason: str, pod: str):
        super().__init__(
            f"cannot pull image {image} for pod {pod} ({reason}); "
            "on an air-gapped cluster, point --probe-image or CKAPREP_PROBE_IMAGE at a reachable copy"
        )
        self.image, self.reason, self.pod = image, reason, pod


class MissingCapability(CkaprepError):
    """The cluster lacks what an exercise requires (its `requires`), or that cannot be found out."""

    exit_status = ExitStatus.UNSUPPORTED


class WaitTimeout(CkaprepError):
    exit_status = ExitStatus.TIMEOUT


class OutputError(CkaprepError):
    """Standard output cannot be written: a full disk, or a stream closed before ckaprep started."""

    exit_status = ExitStatus.OUTPUT


class Interrupted(CkaprepError):
    """Ctrl-C, with a note on what was left and how to clean it up."""

    exit_status = ExitStatus.INTERRUPTED


def one_line(text: str) -> str:
    """Text as one printable line: control characters, line breaks and bytes that were not
    UTF-8 (kept by Python as lone surrogates) are shown as escapes instead of acting."""
    text = str(text)
    if text.isprintable():  # the usual case, at C speed
        return text
    return "".join(_printable(char) for char in text)


def printable(text: str) -> str:
    """Text of any number of lines as it may be shown: line breaks and tabs are kept, every
    other control character (the ESC of a terminal escape sequence, say) is shown as an escape."""
    text = str(text)
    if text.translate(_LINE_BREAKS_AND_TABS).isprintable():  # the usual case, at C speed
        return text
    return "".join(char if char in "\n\t" else _printable(char) for char in text)


_LINE_BREAKS_AND_TABS = str.maketrans("", "", "\n\t")


def _printable(char: str) -> str:
    if char.isprintable() or char == " ":
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    return char.encode("unicode_escape").decode("ascii")


def shorten(text: str, limit: int = 80) -> str:
    """A name quoted in a message, cut to a readable length."""
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
