"""``python -m streamtui`` is the ``streamtui`` command."""

from streamtui.cli import main

main()
