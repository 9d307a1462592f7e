from ckaprep.cli import main

main()
