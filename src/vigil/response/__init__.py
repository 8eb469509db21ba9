"""Response: what the site does about its findings — status per device (VEX-aligned), decide-once rules,
action items, prioritisation. Reads what matching produced; outputs render what it decided."""
