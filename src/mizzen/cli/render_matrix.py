"""The first trials of a ``matrix``, for ``mizzen render`` to show what a sweep's runs look like.

They come from the search space the scheduler's sweep planner draws from
(``mizzen.compiler.search_space``), so a grid, mapping or seeded random search renders exactly the
trials it runs.
"""

from __future__ import annotations

from mizzen.compiler.search_space import first_trials

__all__ = ["first_trials"]
