"""Performance reports (issue 7): figures (``build``), rendering and S3 (``render``), generate/read/edit/send and
the worker step (``service``), schedules and the hourly job (``schedules``), due times and finality (``timing``).

Only ``timing`` and ``schedules`` are imported by the scheduled job; rendering (Jinja2, WeasyPrint) loads only in
the functions that render."""
