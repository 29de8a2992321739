"""Runs browser journeys against a running `sohoa serve`:
    run.py --url URL --out DIR --password PW JOURNEY...
JOURNEY is the name of a module of this folder with `run(h)`. The journeys run in the order given,
sharing `h.state`; the first failure stops the run with its traceback and a screenshot."""

import argparse
import importlib
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("journeys", nargs="+")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    h = Harness(args.url, args.out, args.password)
    try:
        for name in args.journeys:
            print(f"journey {name}", flush=True)
            importlib.import_module(name).run(h)
            print(f"journey {name}: passed", flush=True)
    except Exception:
        traceback.print_exc()
        for context in h.browser.contexts:
            for i, page in enumerate(context.pages):
                try:
                    page.screenshot(path=os.path.join(args.out, f"failure-{i}.png"), full_page=True)
                except Exception:
                    pass
        h.close()
        sys.exit(1)
    h.close()


if __name__ == "__main__":
    main()
