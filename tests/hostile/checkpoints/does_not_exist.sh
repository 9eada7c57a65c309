# The checkpoint path does not exist.
:
