"""Print the demo logins that exist in this database (used by `make run`)."""

from django.core.management.base import BaseCommand

from retention.demo import demo_logins_present


class Command(BaseCommand):
    help = "Print the demo logins present in the database."

    def handle(self, *args, **options):
        logins = demo_logins_present()
        if not logins:
            self.stdout.write("No demo accounts in this database.")
            return
        self.stdout.write("Demo logins:")
        for login in logins:
            self.stdout.write(f"  {login.email:<22} {login.password:<22} {login.role}")
