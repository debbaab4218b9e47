"""Code generation: torch and keras emitters over one compiled model."""
