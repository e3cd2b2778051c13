"""grader: sandboxed grading of take-home coding challenges."""

__version__ = "0.1.0"
