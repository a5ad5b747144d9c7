"""``python -m service.cli``: the same as the ``procure`` console script."""

from service.cli import main

main()
