"""`make bench`: run every bench/bench_*.py and write bench/results.json.

Each module has ``run() -> dict[str, dict]`` returning figures as
``{"name": {"value": number, "unit": "...", "detail": "..."}}``. Figures are ratios against the
raw SQL or COPY of the same work where one exists, so they hold on a noisy machine.
"""

import importlib
import json
import os
import pkgutil
import sys
from pathlib import Path

import django

HERE = Path(__file__).resolve().parent


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "didportal.settings")
    sys.path.insert(0, str(HERE.parent))
    django.setup()
    results = {}
    only = set(sys.argv[1:])
    for module in sorted(m.name for m in pkgutil.iter_modules([str(HERE)])):
        if not module.startswith("bench_") or (only and module not in only):
            continue
        print(f"running {module} …", flush=True)
        figures = importlib.import_module(f"bench.{module}").run()
        for name, figure in figures.items():
            print(f"  {name} = {figure['value']} {figure['unit']}  ({figure.get('detail', '')})")
        results.update(figures)
    out = HERE / "results.json"
    previous = json.loads(out.read_text()) if out.exists() and only else {}
    previous.update(results)
    out.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out} ({len(previous)} figures)")


if __name__ == "__main__":
    main()
