"""
The differential oracle: small scenarios over the Twisted API, each run on
the real reactor and on L{poetry.testing.MemoryNetwork}, whose normalised
callback logs must be equal.

  - C{tests/oracle/_world.py}: the recording world a scenario runs in;
  - C{tests/oracle/_registry.py}: the L{scenario} decorator and the registry;
  - C{tests/oracle/_run.py}: running a scenario on either backend, the
    expected outcomes recorded from the real reactor
    (C{tests/oracle/expected/<family>.json}) and the side-by-side view;
  - C{tests/oracle/scenarios_*.py}: the scenarios, one module per family;
  - C{tests/oracle/_fuzz.py}: random programs generated from seeds, run on
    both backends to find differences no scenario covers;
  - C{python -m tests.oracle}: list, show (one scenario on both backends,
    side by side), record (re-record the expected outcomes from the real
    reactor) and fuzz (the random-program fuzzer).

The expected outcomes come from running the real reactor, never from belief:
C{tests/integration/test_oracle.py} runs every scenario on the real reactor
(and checks the recorded outcome still holds) and on the memory network; the
unit suite (C{tests/unit/test_oracle.py}) runs the memory side alone against
the recorded outcomes.
"""
