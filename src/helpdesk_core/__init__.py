"""helpdesk_core: a helpdesk domain library."""
