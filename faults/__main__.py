"""`make faults`: run every faults/fault_*.py against real processes and write
bench/faults.json.

Each module has ``run(stack) -> dict[str, dict]`` returning figures in bench/results.json's
shape, ``{"name": {"value": number, "unit": "...", "detail": "..."}}``. A figure the money
path promises carries ``"expected"`` (0, or the exact count promised): any other value, or a
scenario that crashes, makes the run fail (exit 1) after every scenario has run and every
figure is written. ``python -m faults fault_load`` runs one.
"""

import importlib
import json
import os
import pkgutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "bench" / "faults.json"


def main():
    sys.path.insert(0, str(HERE.parent))
    from faults.stack import Stack, faults_database_url

    database_url = faults_database_url(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/didportal")
    )
    workdir = Path(os.environ.get("FAULTS_WORKDIR") or tempfile.mkdtemp(prefix="faults-"))
    stack = Stack(database_url, workdir)
    # The orchestrator runs Django on the stack's own database and Redis.
    os.environ.update({k: v for k, v in stack.env().items() if k not in ("PYTHONUNBUFFERED",)})
    import django

    django.setup()

    only = set(sys.argv[1:])
    modules = sorted(
        m.name
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("fault_") and (not only or m.name in only)
    )
    results, broken = {}, []
    print(f"faults: logs in {workdir}", flush=True)
    try:
        stack.redis_start()
        stack.database_create()
        for module in modules:
            started = time.monotonic()
            print(f"running {module} …", flush=True)
            # Every scenario starts from the migrated, empty database and an empty Redis.
            stack.database_reset()
            stack.redis_flushall()
            try:
                figures = importlib.import_module(f"faults.{module}").run(stack)
            except Exception:  # noqa: BLE001 (reported; the other scenarios still run)
                traceback.print_exc()
                broken.append(f"{module} (it crashed)")
                figures = {}
            finally:
                stack.stop_all(keep=("redis",))
                if not stack.running("redis"):
                    stack.redis_start()
            for name, figure in figures.items():
                expected = figure.get("expected")
                mark = "" if expected is None or figure["value"] == expected else "  <-- BROKEN"
                if mark:
                    broken.append(name)
                detail = figure.get("detail", "")
                print(f"  {name} = {figure['value']} {figure['unit']}  ({detail}){mark}")
            print(f"  ({time.monotonic() - started:.0f} s)", flush=True)
            results.update(figures)
    finally:
        stack.stop_all()
        stack.database_drop_all()
    previous = json.loads(OUT.read_text()) if OUT.exists() and only else {}
    previous.update(results)
    OUT.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(previous)} figures)")
    if broken:
        print(f"FAILED: {', '.join(broken)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
