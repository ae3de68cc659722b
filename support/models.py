"""The support console keeps no data of its own: what it writes is the staff
access log (staff.AccessLog, which lived here until support 0004)."""
