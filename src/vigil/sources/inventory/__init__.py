"""Reading inventories: canonical CSV, real-world spreadsheets (synonyms, mapping files, XLSX), CycloneDX."""
