"""A Django app that keeps a helpdesk_core desk in the project's own database.

- :mod:`.models`: the helpdesk tables as Django models (migrated with ``manage.py migrate``);
- :mod:`.store`: :class:`~helpdesk_django.store.DjangoStore`, the ``Store`` those models
  back, which runs inside Django's transactions;
- :mod:`.desk`: the project's ``Helpdesk``, built from ``settings.HELPDESK``;
- :mod:`.views` and :mod:`.urls`: a small JSON API (open, list, show, reply, transition);
- ``manage.py helpdesk_tick``: SLA sweeps and outbox delivery through Django's email backend.
"""
