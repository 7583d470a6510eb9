"""The example Django project around the ``helpdesk_django`` app."""
