"""reviewbot's test suite; a package so that test files in different folders may share a base name."""
