"""The learning register: recommendations and areas for improvement, the actions taken, and their controls."""
