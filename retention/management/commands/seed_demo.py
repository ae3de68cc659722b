"""Load demo accounts covering every retention rule (for `make run`)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from retention.demo import has_accounts, seed_demo


class Command(BaseCommand):
    help = "Create demo accounts and conversations covering every rule; prints the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already has accounts.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Allow seeding with DEBUG off (the demo passwords are public).",
        )

    def handle(self, *args, if_empty: bool, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "refusing to seed demo accounts with DEBUG off (their passwords are public); pass --force"
            )
        if has_accounts():
            if if_empty:
                self.stdout.write("Database already has accounts; demo data not loaded.")
                return
            raise CommandError(
                "the database already has accounts; run on an empty database or use --if-empty"
            )
        logins = seed_demo()
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Logins:"))
        for login in logins:
            self.stdout.write(f"  {login.email:<22} {login.password:<22} {login.role}")
