"""``manage.py runserver_demo``: the development server of ``make run``, which prints how to
log in and the demo's API key after the server's banner, so they are the last lines before
the request log instead of scrolling away above it (printed again after each reload)."""

from django.conf import settings
from django.core.management import get_commands, load_command_class

from reports.management.commands.create_demo_staff import DEMO_PASSWORD, DEMO_USERNAME

# The published key of the demo (the Makefile's default of CHECKOUT_API_KEY): the only key
# this command prints. A key someone set is a secret and stays off the terminal.
DEMO_API_KEY = "smplat-demo-api-key"

# The runserver that would run otherwise (WhiteNoise's, which leaves static files to its
# middleware), whichever app provides it.
_Runserver = type(load_command_class(get_commands()["runserver"], "runserver"))


def demo_welcome(base_url: str) -> list[str]:
    """What a newcomer needs from the terminal: where to go, how to log in, the API key."""
    base_url = base_url.rstrip("/")
    if settings.CHECKOUT_API_KEY == DEMO_API_KEY:
        key_line = (
            f"  API key   {DEMO_API_KEY}   e.g. curl -H 'Authorization: Bearer {DEMO_API_KEY}'"
            f" {base_url}/api/v1/reporting/guardrails/followups"
        )
    elif settings.CHECKOUT_API_KEY:
        key_line = "  API key   the CHECKOUT_API_KEY you set (not printed)"
    else:
        key_line = "  API key   none: set CHECKOUT_API_KEY, or create one with manage.py api_key"
    lines = [
        "",
        "smplat reports is running:",
        f"  Open      {base_url}/admin/",
    ]
    if settings.DEBUG:  # create_demo_staff only sets the published password with DEBUG on
        lines.append(f"  Log in    {DEMO_USERNAME} / {DEMO_PASSWORD}")
    lines += [f"  API docs  {base_url}/api/docs/ (after logging in)", key_line, ""]
    return lines


class Command(_Runserver):
    help = "The development server, ending its banner with the demo's login and API key."

    def on_bind(self, server_port):
        super().on_bind(server_port)
        # Where a browser goes: "0" (all interfaces) is reached as 127.0.0.1.
        host = f"[{self.addr}]" if self._raw_ipv6 else self.addr
        if host in {"0", "0.0.0.0"}:  # noqa: S104 - names the address, binds nothing
            host = "127.0.0.1"
        for line in demo_welcome(f"{self.protocol}://{host}:{server_port}/"):
            self.stdout.write(self.style.SUCCESS(line) if line.startswith("  ") else line)
