"""Grading: typed checks over cluster state, producing a report. No terminal code here."""
