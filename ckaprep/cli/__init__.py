"""The command line: wiring only.

`base` holds what every command shares (consoles, options, errors); each command group is a
module of its own that imports only `base`; `entry` assembles them and is what runs."""
