"""The one exception type for bad user input: the CLI prints its message and exits with code 2."""


class UserError(Exception):
    """Something the user gave or the machine holds is wrong (unknown name, bad config key, missing data).

    The message names what is wrong and what to do about it; no traceback is shown for it.
    """
