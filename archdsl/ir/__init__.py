"""Resolved program, expression evaluation, and the expansion to module instances with shapes."""
