"""Other servers as copnet knows them: cached remote actors, their keys, the federation policy."""
