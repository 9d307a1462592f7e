import sys

try:
    from ckaprep.cli.entry import main
except KeyboardInterrupt:  # Ctrl-C while still starting up
    sys.stderr.write("interrupted\n")
    sys.exit(130)

main()
