"""Writes the shipped parse of the built-in exercises (`exercises/parsed.json`), which a first
run reads instead of parsing them. Run it after editing a built-in exercise:

    python -m ckaprep.catalogue.ship_parsed
"""

from ckaprep.catalogue.loading import parse_yaml
from ckaprep.catalogue.shipped import write_shipped_parse

if __name__ == "__main__":
    print(write_shipped_parse(parse_yaml))
