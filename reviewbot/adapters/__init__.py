"""Everything that talks to the outside: git, the repository's files, git's diff output, the model endpoint, the result
cache on disk, GitHub."""
