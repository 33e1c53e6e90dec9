"""The ``naiad-bo`` command line."""
