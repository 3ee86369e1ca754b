"""The triage evaluation set (cases.yml) and the checks its two runs share."""
