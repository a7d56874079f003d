"""Toxicity grading (ASTCT CRS/ICANS, ICAHT, CAR-HEMATOTOX, IEC-HS flags) and safety tables."""
