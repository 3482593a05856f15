"""The AI assistant (issue 7): tools over the service's own functions, an offline answerer with citations, and the
provider tool-calling path guarded by the figure check. Entry points are in ``service``."""
