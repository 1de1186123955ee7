"""Quality checks on a model's answer: deterministic rules, no second model.

A schema-valid answer can still be unusable: the prompt's instructions written back as
content, the user's pains copied into the pain relievers, the same row six times, stray
characters of another script, "TBD", text cut off at its length limit, the prompt's
example copied. ``check.check_answer`` finds these, each finding naming the field path
and the rule; the generator sends the findings back for a targeted repair
(``ai.generation``), and the version keeps what remains (``ArtifactVersion.quality``).
"""
