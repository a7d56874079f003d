"""Suite-wide settings: hypothesis draws the same examples on every run, so CI cannot fail by chance."""

from hypothesis import settings

settings.register_profile("deterministic", derandomize=True)
settings.load_profile("deterministic")
