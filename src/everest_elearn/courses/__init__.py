"""Courses, enrolments and feedback: the model, its store and the service the hub and CLI call."""
