"""ReportLab PDF reports in Chinese."""
