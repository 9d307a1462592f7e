"""A learner's practice: the attempt and exam state kept on disk, setting exercises up and taking
them down, mock exams, the history of results, progress, and proving exercises."""
