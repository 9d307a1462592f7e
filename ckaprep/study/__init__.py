"""Study notes: the topic pages, their one vocabulary, and the learner's own note in them."""
