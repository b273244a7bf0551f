"""Helpers for the fine-tuning course.

Only what would bury a lesson lives here: loading and validating data, counting tokens,
the offline API simulator, plotting and evaluation. The API calls being taught stay in
the notebooks.
"""
