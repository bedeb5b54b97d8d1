"""The council's front door, as rules (issue 20): the self-assessment's questions and
answers, the resource allocation system and its indications, the help offered at once, the
referral queue, assessors' diaries and visits, plan reviews, and the figures. No Flask
request machinery here: the pages (`marketplace.front_door`, the council's), the CLI and the
tests call the same functions."""
