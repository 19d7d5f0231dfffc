"""``python -m hydro.cli``: the same as the ``hydro`` command."""

from hydro.cli.app import main

main()
