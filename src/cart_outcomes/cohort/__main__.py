"""``python -m cart_outcomes.cohort [--write]``: print (or write to docs/) the data dictionary."""

from cart_outcomes.cohort.schema import main

raise SystemExit(main())
