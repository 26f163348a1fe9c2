"""One module per subcommand: plain values in, an exit code out. cli.py parses the command line and calls them."""
