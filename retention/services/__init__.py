"""Services: every write of the retention domain goes through a function here."""
