"""The analysis plan (study.yaml): model, checks and runner."""
