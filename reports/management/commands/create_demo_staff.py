"""`create_demo_staff`: the demo's staff login (make run), or a staff user with a given password."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "smplat-demo"  # noqa: S105 - a published demo password, refused outside DEBUG


class Command(BaseCommand):
    help = "Create (or reset) the demo staff user and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=DEMO_USERNAME)
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/admin/", help="Where the site will be served."
        )
        parser.add_argument(
            "--password",
            help="Password to set. Without it the published demo password is used, which is "
            "only allowed when DEBUG is on.",
        )

    def handle(self, *args, username: str, password: str | None, url: str, **options):
        if password is None:
            if not settings.DEBUG:
                raise CommandError(
                    "Refusing to create a user with the published demo password while DEBUG is "
                    "off. Pass --password, or use 'manage.py createsuperuser'."
                )
            password = DEMO_PASSWORD
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(password)
        user.save()
        verb = "Created" if created else "Reset"
        self.stdout.write(self.style.SUCCESS(f"{verb} staff user '{username}'."))
        self.stdout.write(f"Log in at {url} as {username} / {password}")
