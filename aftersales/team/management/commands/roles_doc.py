from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from aftersales.team.roles_doc import roles_markdown

DEFAULT = Path(settings.BASE_DIR) / "docs" / "roles.md"


class Command(BaseCommand):
    help = "Write docs/roles.md (the roles, scopes and who may do what) from the permission matrix"
    # A data command: the system checks (which build every URL and the API's document, two of
    # the three seconds of a start) run with `serve`, the worker and `migrate`.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(DEFAULT), help="where to write ('-': print)")
        parser.add_argument("--language", default="en", help="en or zh-hans")

    def handle(self, *args, output, language, **options):
        with translation.override(language):
            text = roles_markdown()
        if output == "-":
            self.stdout.write(text, ending="")
            return
        Path(output).write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {output}")
