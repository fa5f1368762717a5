"""Who to contact: the registry of districts, schools, contact persons and socialjour (model,
name matching, routing, file formats, database repository) and the contact card."""
