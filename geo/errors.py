"""The one home of PhuSong's exceptions.

Every error a user can cause is a subclass of :class:`PhuSongError`. The CLI maps
them to exit code 2 and a message on stderr; the UI to ``st.error``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding of a validation run.

    Parameters
    ----------
    severity : {"error", "warning"}
        Errors make a package unusable; warnings do not.
    file : str
        Path of the file, relative to the data package where possible.
    where : str
        Row number, feature id or column the problem is at ("" for the whole file).
    message : str
        What is wrong.
    hint : str
        What to do about it.
    """

    severity: Severity
    file: str
    where: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        loc = f"{self.file}" + (f" [{self.where}]" if self.where else "")
        text = f"{self.severity.upper()}: {loc}: {self.message}"
        return text + (f" -> {self.hint}" if self.hint else "")


class PhuSongError(Exception):
    """Base class of every error PhuSong raises on purpose."""


class DataNotFoundError(PhuSongError, FileNotFoundError):
    """A required file or layer is missing."""


class UnreadableFileError(PhuSongError, ValueError):
    """A file exists but cannot be read: not the format its name says, truncated, wrong encoding."""


class SchemaError(PhuSongError, ValueError):
    """A table lacks required columns or holds values of the wrong kind."""


class CRSError(PhuSongError, ValueError):
    """A layer has no CRS, or coordinates that cannot be where the CRS says."""


class InvalidGeometryError(PhuSongError, ValueError):
    """A geometry is empty, missing or cannot be repaired."""


class ParameterError(PhuSongError, ValueError):
    """A parameter (CLI argument, config value) is out of its valid range."""


class ModelRangeError(ParameterError):
    """A propagation model was asked for inputs outside its validity range."""


class ImportRejectedError(PhuSongError, ValueError):
    """An imported file was refused; the data package is unchanged."""


class ValidationError(PhuSongError, ValueError):
    """A data package failed validation; carries every problem found.

    Parameters
    ----------
    problems : list of Problem
        All findings, errors and warnings.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        head = f"{len(errors)} error(s) in data package"
        super().__init__(head + "\n" + "\n".join(str(p) for p in errors))


class OfflineAssetError(PhuSongError, RuntimeError):
    """A map needs a JavaScript/CSS asset that is not vendored in ``layers/assets`` (no CDN at run time)."""


class UnknownUnitError(SchemaError):
    """Rows of a table name administrative units the code list does not know (or names it cannot tell apart).

    Carries one :class:`Problem` per offending row, so that every bad row is reported at once.

    Parameters
    ----------
    problems : list of Problem
        One finding per row (``where`` is ``"row N"``, counted as a spreadsheet shows it).
    head : str
        First line of the message (which file, what kind of unit).
    """

    def __init__(self, problems: list[Problem], head: str) -> None:
        self.problems = list(problems)
        super().__init__(head + "\n" + "\n".join(str(p) for p in self.problems))


class NotPermittedError(PhuSongError):
    """The signed-in user's role lacks the permission an action needs (auth/roles.py).

    Parameters
    ----------
    message : str
        What was refused, naming the action and the role.
    permission : str
        Value of the :class:`auth.roles.Permission` that was missing ("" when none applies).
    """

    def __init__(self, message: str, permission: str = "") -> None:
        self.permission = permission
        super().__init__(message)


class AuthenticationError(PhuSongError):
    """Sign-in refused: unknown name or wrong password (one message for both, on purpose)."""


class AccountLockedError(AuthenticationError):
    """Sign-in refused because the account is locked after too many failed attempts.

    Parameters
    ----------
    message : str
        What happened and until when.
    until : datetime.datetime
        UTC time the lock ends.
    """

    def __init__(self, message: str, until: datetime) -> None:
        self.until = until
        super().__init__(message)


class UnknownUserError(PhuSongError, LookupError):
    """An account name that the users file does not hold (user management, not sign-in)."""


class UserExistsError(PhuSongError, ValueError):
    """An account of that name is already in the users file."""


class UsersFileError(PhuSongError):
    """The users file (or the audit log) cannot be read, written or locked, or is not PhuSong's format."""


class ClaimMappingError(PhuSongError, ValueError):
    """Identity-provider claims that map to no PhuSong role, or a partner role without a known operator."""


class SensitiveFieldError(ParameterError):
    """An audit entry was given a field named like a secret (password, hash, token...): refused."""
