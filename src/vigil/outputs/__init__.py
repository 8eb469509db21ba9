"""What vigil shows and sends: spreadsheets, (later) VEX and reports."""
