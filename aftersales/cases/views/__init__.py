"""Pages: the agent workbench (``desk``) and the customer portal (``portal``)."""
