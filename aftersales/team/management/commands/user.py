from django.core.management.base import BaseCommand, CommandError

from aftersales.core.actors import Role
from aftersales.core.errors import ApplicationError
from aftersales.team.services import user_create


class Command(BaseCommand):
    help = "Manage users: user create NAME --role ROLE [--shop CODE] [--customer EXTERNAL_ID]"
    # A data command: the system checks (which build every URL and the API's document, two of
    # the three seconds of a start) run with `serve`, the worker and `migrate`.
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="create a user with a role")
        create.add_argument("name")
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument(
            "--shop",
            action="append",
            default=[],
            help="shop code (repeatable); an admin without one administers the installation, "
            "the Django admin (/admin/) included",
        )
        create.add_argument("--customer", help="the shop customer's external id (customer role)")
        create.add_argument("--password", help="for logging in to pages; API use needs a token")
        create.add_argument("--email", default="")

    def handle(self, *args, verb, name, role, shop, customer, password, email, **options):
        try:
            user_create(
                username=name,
                role=role,
                shop_codes=shop,
                customer_external_id=customer,
                password=password,
                email=email,
            )
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.detail}") from error
        self.stdout.write(f"created {role} {name}")
