"""Delivery to Vertex AI: pipeline compile/submit and the serving image check."""
