"""Run in a separate process by the search tests: hold the write lock, or index a listing.

python -m tests.search.child hold PATH ENGINE SECONDS
python -m tests.search.child index PATH ENGINE LISTING_ID
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from search import Gazetteer, ListingDocument, open_engine
from search.home import IndexHome

REPOSITORY = Path(__file__).parent.parent.parent


def main(mode: str, path: str, engine_name: str, argument: str) -> None:
    if mode == "hold":
        with IndexHome(Path(path), engine_name).write_lock(timeout=5):
            sys.stdout.write("locked\n")
            sys.stdout.flush()
            time.sleep(float(argument))
        return
    county = json.loads((REPOSITORY / "providers/data/hertfordshire.json").read_text("utf-8"))
    engine = open_engine(engine_name, path, gazetteer=Gazetteer.from_county(county))
    engine.index_documents(
        [ListingDocument(id=argument, name="Tea dance in Tring", locality_codes=("tring",))]
    )
    engine.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
