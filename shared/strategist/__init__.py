# -- issue 9, security hygiene slice: secrets never reach a log line (see strategist/logs.py)
from strategist import logs as _logs

_logs.install()
