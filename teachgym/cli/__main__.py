"""``python -m teachgym.cli``: the ``teachgym`` command."""

from teachgym.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
