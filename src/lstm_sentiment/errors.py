"""The one exception type for user mistakes: the CLI prints its message on one line, never a traceback."""


class UserError(Exception):
    """Bad input (a path, a file's content, a flag); the message names the problem. `field` names the request
    field at fault where there is one (the server returns it beside the message)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
