"""Stores for courses, enrolments and feedback."""
