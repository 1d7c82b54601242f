"""Why a job's interpreter could not open its script, when the reason is that the run has no code.

A polyaxonfile such as ``command: [python, train.py]`` run without ``-u`` (and without a git or file
init step) runs in an empty folder: Python's own ``can't open file`` does not say that the script is
on the user's machine, not in the run. This names the file and the fix.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

# Per interpreter: the one-letter options after which the program is inline (not a file), and those
# that take a value (attached, ``-Wignore``, or the next argument).
_PYTHON = ("cm", "WX")
_SHELL = ("c", "oO")
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh"})


def script_of(argv: Sequence[str]) -> str | None:
    """The script file a ``python``/shell command runs (None: ``-c``, ``-m``, another program)."""
    if not argv:
        return None
    program = os.path.basename(argv[0])
    if program.startswith("python"):
        inline, valued = _PYTHON
    elif program in _SHELLS:
        inline, valued = _SHELL
    else:
        return None
    arguments = iter(argv[1:])
    for argument in arguments:
        if argument == "-":
            return None  # the program comes from stdin
        if argument.startswith("--"):
            continue  # --check-hash-based-pycs MODE is the one long option with a value; rare
        if not argument.startswith(("-", "+")):
            return argument
        for position, letter in enumerate(argument[1:], start=1):  # a cluster: -uc, -ec, -Wignore
            if letter in inline:
                return None
            if letter in valued:
                if position == len(argument) - 1:
                    next(arguments, None)
                break
    return None


def no_code_hint(argv: Sequence[str], cwd: str) -> str | None:
    """A sentence for a failed process of a run without code whose script is missing, else None."""
    script = script_of(argv)
    if script is None or os.path.exists(os.path.join(cwd, script)):
        return None
    return (
        f"{script} is not in the run's working folder ({cwd}): the run has no code. Run "
        "`mizzen run -u` from the folder that holds it (it uploads that folder as the run's code), "
        "or add a git or file init step to the polyaxonfile"
    )
