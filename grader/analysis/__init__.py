"""Static analysis of a submission: style, complexity, docs. Nothing here imports or
runs the submission, and nothing of it runs in the calling (API or worker) process.

``python``: ruff and radon (and a docstring walk), each in a limited subprocess.
``limited``: the bounded subprocess runner every analyser uses.
"""

from __future__ import annotations

from grader.analysis.files import Analysis
from grader.analysis.limited import Proc, base_env, run_limited
from grader.analysis.python import analyse, is_candidate_test

__all__ = ["Analysis", "Proc", "analyse", "base_env", "is_candidate_test", "run_limited"]
