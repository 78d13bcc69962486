"""Judgement: from an observation and its expectations to a verdict.

Below the actions and the engine alike (both judge what they observed); it imports
nothing of either. ``expect`` evaluates one expectation, ``verdict`` combines them.
"""
