"""Lambent's code that runs *inside* execution environments (mounted at /var/runtime).

Standard library only, and it must run on every supported Python (3.11, 3.12, 3.13):
nothing here may import `lambent`, which is not visible inside a sandbox.
"""
