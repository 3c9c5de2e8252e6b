# The `broker` and autouse `memory_broker` fixtures live in tests/conftest.py.
