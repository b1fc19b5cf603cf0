"""Official statistics: disclosure control now (contract section 7), the publication later (issue 22 point 8)."""
