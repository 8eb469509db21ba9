"""Reading CSAF: parse (bounded), validate (schema + mandatory tests), integrity, extraction, sync."""
