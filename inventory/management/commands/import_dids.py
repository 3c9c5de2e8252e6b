"""manage.py import_dids FILE [--dry-run] [--user EMAIL]: the page's import, from a shell."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory.importing.services import ImportRejected, file_check, file_import


class Command(BaseCommand):
    help = "Import DIDs from a CSV or XLSX file, all or nothing (columns as on the import page)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Check every row; save nothing.")
        parser.add_argument("--user", help="E-mail of the user the history records as author.")

    def handle(self, *args, file, dry_run, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(email__iexact=user).first()
            if actor is None:
                raise CommandError(f"No user with e-mail {user}")
        try:
            if dry_run:
                plan = file_check(path=path, name=path.name)
                if plan.error_count:
                    raise ImportRejected(plan=plan)
            else:
                plan = file_import(path=path, name=path.name, actor=actor)
        except ImportRejected as exc:
            self._report(exc)
            raise CommandError("Nothing was imported.") from None
        summary = plan.summary()
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            f"{verb} {summary['numbers']:,} numbers into {len(summary['blocks'])} blocks "
            f"({summary['new_blocks']} new)."
        )

    def _report(self, exc):
        if exc.file_error:
            self.stderr.write(exc.file_error)
            return
        plan = exc.plan
        for error in plan.sorted_errors():
            where = f"row {error['row']}" + (f", {error['column']}" if error["column"] else "")
            self.stderr.write(f"{where}: {error['message']}")
        if plan.error_count > len(plan.errors):
            self.stderr.write(f"… and {plan.error_count - len(plan.errors):,} more.")
        self.stderr.write(f"{plan.error_count:,} errors.")
