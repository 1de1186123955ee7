"""A pipeline pack's stages: the state machine over a project's stage artifacts.

Above ``projects`` and ``artifacts`` (a stage holds an artifact of a project); the stage
statuses that a new version changes live below, in ``projects.stage_status``, so that
``artifacts`` can move them without importing this package.
"""
