"""A class on one shared cluster: seats for learners (seats), a class exam (exams), and the
trainer's grade, status and report (grades)."""
