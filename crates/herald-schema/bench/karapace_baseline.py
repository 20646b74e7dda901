#!/usr/bin/env python3
"""Times Karapace's JSON Schema checker on the benchmark pairs, for a baseline measured on the
same machine in the same session as `cargo bench -p herald-schema --bench compat`.

Karapace is not on PyPI: point KARAPACE_SRC at a checkout's `src` directory (the one holding
`karapace/core/compatibility/jsonschema/checks.py`) and install its checker's imports
(`pip install jsonschema networkx avro`). Nothing of Karapace is part of this repository.

    KARAPACE_SRC=~/karapace/src python3 crates/herald-schema/bench/karapace_baseline.py [SHARED_DIR]

Measures what shared/bench/README.md describes: BACKWARD (reader = new schema), the median per
check including building both Draft7Validator objects, and also with them built beforehand.
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
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../../shared")
src = os.environ.get("KARAPACE_SRC")
if not src:
    sys.exit("set KARAPACE_SRC to a Karapace checkout's src directory")
sys.path.insert(0, os.path.expanduser(src))

from jsonschema import Draft7Validator  # noqa: E402
from karapace.core.compatibility.jsonschema.checks import compatibility  # noqa: E402

warnings.simplefilter("ignore")
for size, reps in (("small", 500), ("medium", 100), ("large", 9)):
    out = tempfile.mkdtemp()
    subprocess.run(
        [sys.executable, os.path.join(shared, "bench/gen_schemas.py"), "--size", size, "--out", out],
        check=True,
        stdout=subprocess.DEVNULL,
    )
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
