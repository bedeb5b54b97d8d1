"""The in-app inbox and the emails that go with it."""
