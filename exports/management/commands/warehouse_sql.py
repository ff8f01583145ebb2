"""``warehouse_sql``: each feed's warehouse table, merge key and load statements (SPEC §8),
from the declarations in exports/warehouse.py; docs/warehouse.md is its --markdown output."""

from django.core.management.base import BaseCommand

from exports.warehouse import DIALECTS, WAREHOUSE_TABLES, markdown, render


class Command(BaseCommand):
    help = "Print each feed's warehouse CREATE TABLE, merge key and load statements."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--feed", choices=list(WAREHOUSE_TABLES), help="one feed only")
        parser.add_argument("--dialect", choices=DIALECTS, default="snowflake")
        parser.add_argument(
            "--markdown",
            action="store_true",
            help="every dialect as docs/warehouse.md (python manage.py warehouse_sql"
            " --markdown > docs/warehouse.md)",
        )

    def handle(self, *args, **options) -> None:
        feeds = [options["feed"]] if options["feed"] else None
        if options["markdown"]:
            self.stdout.write(markdown(feeds), ending="")
        else:
            self.stdout.write(render(options["dialect"], feeds), ending="")
