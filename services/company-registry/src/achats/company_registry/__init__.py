"""achats.company_registry: INSEE Sirene lookup, companies, establishments and their document vault."""
