"""The one exception type for user mistakes: the CLI prints its message on one line, never a traceback."""


class UserError(Exception):
    """Bad input (a path, a file's content, a flag); the message names the problem."""
