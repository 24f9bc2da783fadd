"""schemathesis against a real server's ``/openapi.json``: no 5xx, statuses as documented.

Every operation is driven with schema-made and schema-breaking requests
(examples, coverage, fuzzing and stateful phases) under a bounded budget.
The checks are schemathesis' own, all of them but ``positive_data_acceptance``:
a schema-valid upload of random bytes is rightly refused with 415, since
the schema cannot say "an image". ``ignored_auth`` sends requests without
the token and expects them refused.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support.server import served

#: Examples per operation and phase: enough to find a 500, a few seconds per run.
MAX_EXAMPLES = "15"


def test_schemathesis_finds_no_server_error(tmp_path: Path, env: dict[str, str]) -> None:
    with served(tmp_path, env, "-w", "0", token="schema-token") as srv:
        argv = [sys.executable, "-m", "schemathesis.cli", "run", srv.url + "/openapi.json"]
        argv += ["--checks", "all", "--exclude-checks", "positive_data_acceptance"]
        argv += ["--max-examples", MAX_EXAMPLES, "--request-timeout", "30", "--no-color"]
        argv += ["--header", "Authorization: Bearer schema-token", "--workers", "1"]
        argv += ["--report-dir", str(tmp_path / "report")]
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        assert " passed" in result.stdout
        assert "Traceback" not in srv.log()
