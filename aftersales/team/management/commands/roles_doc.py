from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from aftersales.team.roles_doc import roles_markdown

DEFAULT = Path(settings.BASE_DIR) / "docs" / "roles.md"


class Command(BaseCommand):
    help = "Write docs/roles.md (the roles, scopes and who may do what) from the permission matrix"

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
