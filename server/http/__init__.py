"""HTTP plumbing shared by every handler: JSON errors, AS2 responses, content negotiation."""
