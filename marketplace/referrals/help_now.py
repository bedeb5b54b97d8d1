"""Help at once (issue 20 item 3): from a self-assessment's answers, the services that meet
its outcomes straight away, before any budget exists. HELP part."""
