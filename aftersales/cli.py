"""The ``aftersales`` command: Django's management commands under the product's name.

``aftersales migrate``, ``serve``, ``worker``, ``sweep``, ``user create``, ``token create``,
``demo``, ``import orders FILE`` and ``import_platform --store ID FILE``; ``aftersales help``
lists everything.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["aftersales", *(sys.argv[1:] if argv is None else argv)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
