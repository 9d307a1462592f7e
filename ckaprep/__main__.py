from ckaprep.pages import main

main()
