#!/usr/bin/env python3
"""Times Karapace's JSON Schema checker on the benchmark pairs, for a baseline measured on the
same machine in the same session as `cargo bench -p herald-schema --bench compat`.

The pairs are the ones the bench checks, written by the crate's `bench_pairs` example. Give the
directory it wrote (`cargo run --release -p herald-schema --example bench_pairs -- DIR`), or
nothing and this script runs that example itself into a temporary directory.

Karapace is not on PyPI: point KARAPACE_SRC at a checkout's `src` directory (the one holding
`karapace/core/compatibility/jsonschema/checks.py`) and install its checker's imports
(`pip install jsonschema networkx avro`). Nothing of Karapace is part of this repository.

    KARAPACE_SRC=~/karapace/src python3 crates/herald-schema/bench/karapace_baseline.py [PAIRS_DIR]

Measures BACKWARD (reader = new schema): the median per check including building both
Draft7Validator objects, and also with them built beforehand.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

here = os.path.dirname(os.path.abspath(__file__))
src = os.environ.get("KARAPACE_SRC")
if not src:
    sys.exit("set KARAPACE_SRC to a Karapace checkout's src directory")
if len(sys.argv) > 1:
    pairs = sys.argv[1]
else:
    pairs = tempfile.mkdtemp(prefix="herald-bench-pairs-")
    subprocess.run(
        ["cargo", "run", "--quiet", "--release", "-p", "herald-schema", "--example", "bench_pairs", "--", pairs],
        cwd=os.path.join(here, ".."),
        check=True,
        stdout=subprocess.DEVNULL,
    )
sys.path.insert(0, os.path.expanduser(src))

from jsonschema import Draft7Validator  # noqa: E402
from karapace.core.compatibility.jsonschema.checks import compatibility  # noqa: E402

warnings.simplefilter("ignore")
for size, reps in (("small", 500), ("medium", 100), ("large", 9)):
    out = os.path.join(pairs, size)
    if not os.path.isfile(os.path.join(out, "old.json")):
        sys.exit(f"no {size}/old.json in {pairs}: write the pairs with the bench_pairs example")
    with open(os.path.join(out, "old.json")) as f:
        old = json.load(f)
    with open(os.path.join(out, "new.json")) as f:
        new = json.load(f)
    with_validators, prebuilt = [], []
    for _ in range(reps):
        start = time.perf_counter()
        result = compatibility(Draft7Validator(new), Draft7Validator(old))
        with_validators.append(time.perf_counter() - start)
        reader, writer = Draft7Validator(new), Draft7Validator(old)
        start = time.perf_counter()
        compatibility(reader, writer)
        prebuilt.append(time.perf_counter() - start)
    print(
        f"{size}: {statistics.median(with_validators) * 1e3:.3f} ms a check "
        f"({statistics.median(prebuilt) * 1e3:.3f} ms with validators built beforehand), "
        f"{result.compatibility.name}, median of {reps}"
    )
