"""Strategy generation: from a brief to a costed, forecast, versioned plan (issue 5).

``generate`` orchestrates; ``audience``, ``timeline`` and ``content`` build the plan's sections from computed
figures; ``plan_math`` holds the exact money split and the Monte Carlo summaries shared with the budget optimizer.
"""
