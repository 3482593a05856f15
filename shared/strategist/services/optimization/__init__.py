"""Campaign optimization (issue 6, optimize slice).

- ``recommend``: POST /api/v1/campaign/optimize — recommendations with evidence, expected impact and the exact
  platform change, behind minimum-data gates; also budget optimizations turned into recommendations.
- ``apply``: dry run, apply, approve and undo through the connectors, with caps, cooldowns and approvals.
- ``rules``: automation rules (CRUD, contradiction check, evaluation).
- ``job``: the daily job over every active campaign of every tenant.
- ``views``: reading optimizations and recommendations back.
"""
