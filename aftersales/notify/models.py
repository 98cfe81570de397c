"""The outbox is the kernel's (``core.models.Notice``): notices about any subject, written in the
transaction of the change. This app delivers them."""
