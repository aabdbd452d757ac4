"""The root of every error the fleet raises on purpose."""


class BriaFleetError(Exception):
    """An error whose message is meant for the person running the fleet.

    The command line prints ``str(error)`` as one sentence instead of a traceback, so the
    message should say what went wrong and, where there is one, what fixes it.
    """
