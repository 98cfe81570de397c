from django.core.management.base import BaseCommand, CommandError

from aftersales.core.errors import ApplicationError
from aftersales.team.services import token_create, token_revoke


class Command(BaseCommand):
    help = "Manage API tokens: token create NAME (prints the token) | token revoke TOKEN"
    # A data command: the system checks (which build every URL and the API's document, two of
    # the three seconds of a start) run with `serve`, the worker and `migrate`.
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="create a token for user NAME and print it")
        create.add_argument("name")
        create.add_argument("--label", default="")
        revoke = sub.add_parser("revoke", help="revoke a token")
        revoke.add_argument("token")

    def handle(self, *args, verb, **options):
        try:
            if verb == "create":
                self.stdout.write(token_create(username=options["name"], name=options["label"]))
            else:
                token_revoke(token=options["token"])
                self.stdout.write("revoked")
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.detail}") from error
