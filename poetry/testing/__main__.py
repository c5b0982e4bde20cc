"""
C{python -m poetry.testing}: see L{poetry.testing._command}.
"""

from poetry.testing._command import main

raise SystemExit(main())
