"""The evaluation report: figures and the HTML page."""
