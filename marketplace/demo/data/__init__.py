"""The demo county's data: JSON files of organisations, kinds of offer and demo users;
`county`, which turns them into plain, deterministic plans for `marketplace.demo.seed`; and
`wording`, which writes the listings' descriptions."""
