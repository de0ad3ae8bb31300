"""Stop and search: import, disparity and outcome analysis, supervisory sampling, publication."""
