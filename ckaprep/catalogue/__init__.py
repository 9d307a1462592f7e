"""Exercises: the data files, their parameters and templates, how they are found and loaded, and
the checks an author's file is validated against."""
