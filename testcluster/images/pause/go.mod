module ckaprep.invalid/pause

go 1.22
