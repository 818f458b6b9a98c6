"""`make bench`: every benchmark, one after the other, on the running stack (with-stack.sh starts it)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in (
    "bench_pages.py", "bench_slos.py", "bench_rules.py", "bench_settle.py", "bench_big.py", "bench_scale.py",
    "bench_cli.py",
):
    print(f"\n== {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=True)
