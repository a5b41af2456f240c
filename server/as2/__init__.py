"""Every ActivityStreams document copnet renders, in one place."""
