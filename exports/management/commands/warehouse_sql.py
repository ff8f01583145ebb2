"""``warehouse_sql``: each feed's warehouse table, merge key and load statements (SPEC §8),
from the feed declarations (exports/warehouse.py writes the SQL); docs/warehouse.md is its
--markdown output."""

from django.core.management.base import BaseCommand

from exports.registry import warehouse_tables
from exports.warehouse import DIALECTS, markdown, render


class Command(BaseCommand):
    help = "Print each feed's warehouse CREATE TABLE, merge key and load statements."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--feed", choices=list(warehouse_tables()), help="one feed only")
        parser.add_argument("--dialect", choices=DIALECTS, default="snowflake")
        parser.add_argument(
            "--markdown",
            action="store_true",
            help="every dialect as docs/warehouse.md (python manage.py warehouse_sql"
            " --markdown > docs/warehouse.md)",
        )

    def handle(self, *args, **options) -> None:
        tables = warehouse_tables()
        chosen = [tables[options["feed"]]] if options["feed"] else list(tables.values())
        if options["markdown"]:
            self.stdout.write(markdown(chosen), ending="")
        else:
            self.stdout.write(render(options["dialect"], chosen), ending="")
