"""One module per table family; all SQL outside migrations lives here."""
