"""The privacy commands as mutations, one a file."""
