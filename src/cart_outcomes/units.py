"""Time units shared by every floor: one constant, never re-spelled."""

#: Days per month wherever a time is shown or asked for in months (365.25 / 12), stated in every output.
DAYS_PER_MONTH = 30.4375
