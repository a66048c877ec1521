"""Per-page maths, one module named like each page in pages/."""
