"""Run inside the reference server's own venv (``.bench-venvs/reference``, never a dependency of
this project): times its `validate_oscal_content` on one file, as asked over stdin.

    .bench-venvs/reference/bin/python bench/reference_validate.py FILE

Each input line is a call count; each answer line the CPU seconds per call (`time.process_time`).
"""

import sys
import time

from mcp_server_for_oscal.tools.validate_oscal_content import validate_oscal_content


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        text = handle.read()
    validate_oscal_content(text)  # warm: schema loaded and compiled
    print("ready", flush=True)
    for line in sys.stdin:
        calls = int(line)
        started = time.process_time()
        for _ in range(calls):
            validate_oscal_content(text)
        print((time.process_time() - started) / calls, flush=True)


if __name__ == "__main__":
    main()
