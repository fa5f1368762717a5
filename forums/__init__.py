"""Cooperation forums: their schedules (RFC 5545 rules, Swedish holidays), file formats, .ics,
database repository, the reminder scheduler and the forum cards."""
