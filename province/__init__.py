"""A province that outgrows one node: one run per city and as-of date, the cities exchanging a person index.

`settings.py` is the configuration switch (`province.cities`); `person_index.py` holds what a city's run
writes for the others and how it reads theirs; the Dagster side (partitions as-of × city, the two jobs,
the schedule and the sensor) is `pipelines/province.py`. docs/scaling.md says how it runs.
"""
