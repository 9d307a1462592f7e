"""What the terminal (or a trainer's HTML page) shows: tables, panels, wrapping, and the cache of
pages rendered before."""
