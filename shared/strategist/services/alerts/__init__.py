"""Alert rules, alerts and the evaluation job (issue 6, alerts and pacing).

- ``detectors``: what each rule kind checks, on plain daily series (shared with bench/alerts_false_alarms.py);
- ``rules``: rule CRUD and the defaults for a new client;
- ``lifecycle``: listing alerts and their state changes (acknowledge, snooze, resolve), applying evaluations;
- ``evaluate``: reading synced data for a rule's scope and running its detector; the job's entry point.
"""
