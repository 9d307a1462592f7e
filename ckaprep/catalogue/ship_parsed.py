"""Writes the shipped parse of the built-in exercises (`exercises/parsed.json`), which a first
run reads instead of parsing them. Run it after editing a built-in exercise:

    python -m ckaprep.catalogue.ship_parsed
"""

from ckaprep.catalogue.exercise import parse_yaml
from ckaprep.catalogue.parsed_cache import write_shipped_parse

if __name__ == "__main__":
    print(write_shipped_parse(parse_yaml))
