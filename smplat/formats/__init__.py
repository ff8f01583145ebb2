"""Date formats of the site (FORMAT_MODULE_PATH): the admin's lists and detail pages show
times as the operator pages do, in UTC with the zone said (2026-11-29 05:21:00 UTC)."""
