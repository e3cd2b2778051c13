"""The adversarial suite: its modules import their helpers as top-level modules."""
