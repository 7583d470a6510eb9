"""``python -m helpdesk_core``: the ``helpdesk-core`` command (see :mod:`helpdesk_core.cli`)."""

from helpdesk_core.cli import main

raise SystemExit(main())
