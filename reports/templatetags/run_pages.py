"""Template filters of the run history (card run lists, run pages): times in UTC with the
zone said, durations and rates an operator reads at a glance (``smplat/humanize.py``)."""

from django import template

from smplat import humanize

register = template.Library()
register.filter("utc", humanize.utc)
register.filter("seconds", humanize.seconds)
register.filter("per_second", humanize.per_second)
register.filter("counted", humanize.counted)
