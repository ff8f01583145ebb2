"""Feeds already late when late started to warn in Slack count as warned: the first look
after the upgrade would otherwise send a warning for every one of them at once."""

from django.db import migrations


def late_is_alerted(apps, schema_editor):
    FeedState = apps.get_model("exports", "FeedState")
    FeedState.objects.filter(state="late", alerted="ok").update(alerted="late")


class Migration(migrations.Migration):
    dependencies = [("exports", "0004_merge_0003_feed_health_0003_run_detail")]

    operations = [migrations.RunPython(late_is_alerted, migrations.RunPython.noop)]
