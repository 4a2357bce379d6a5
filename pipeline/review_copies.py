"""Which practices of a run are another copy of a reviewed practice.

A review is kept under its practice's id (file hash + index), so a corrected resubmission or the other language's
version of a form has an id of its own and no review. Reviews are never carried over to it (its labels would then
train the models under a text nobody reviewed); this only points from a review to the copies of its practice in
the run, for the secretariat to look at:

- the reviewed practice is in the run: the practices similar.parquet links to it at rank 0 (`near_duplicate`,
  `version`);
- it is not (its file changed or left the batch): the practices of the same city with the same title, by the city
  and title stored with the review (`same_title`).
"""

from __future__ import annotations

from typing import Iterable, Mapping

from pipeline.cities import city_key, fold_key

SAME_TITLE = "same_title"
_COPY_RELATIONS = ("near_duplicate", "version")


def copies_of_reviewed(reviews: Iterable[Mapping], practices: Mapping[str, Mapping],
                       similar: Iterable[Mapping]) -> dict[str, list[dict]]:
    """For each reviewed practice id (reviews: rows of reviews.parquet or PracticeReview fields), the practices of
    the run that are another copy of it: [{"practice_id", "relation"}], in the order found; ids with no copy are
    left out. A copy that was reviewed itself is listed all the same."""
    linked: dict[str, list[dict]] = {}
    for row in similar:
        if row.get("rank") == 0 and row.get("relation") in _COPY_RELATIONS and row.get("neighbour_id") in practices:
            linked.setdefault(row["practice_id"], []).append({"practice_id": row["neighbour_id"],
                                                              "relation": row["relation"]})
    by_title: dict[tuple[str, str], list[str]] = {}
    for pid, practice in practices.items():
        key = (city_key(practice.get("city")), fold_key(practice.get("title")))
        if all(key):
            by_title.setdefault(key, []).append(pid)
    out: dict[str, list[dict]] = {}
    for review in reviews:
        pid = review["practice_id"]
        if pid in practices:
            copies = linked.get(pid, [])
        else:
            key = (city_key(review.get("city")), fold_key(review.get("title")))
            copies = [{"practice_id": other, "relation": SAME_TITLE} for other in by_title.get(key, [])] if all(key) else []
        if copies:
            out[pid] = copies
    return out


def reviewed_copies_of(practice_id: str, copies: Mapping[str, list[dict]]) -> list[dict]:
    """The reviewed practices `practice_id` is a copy of: [{"practice_id" (the reviewed one), "relation"}]."""
    return [{"practice_id": reviewed, "relation": c["relation"]}
            for reviewed, found in copies.items() for c in found if c["practice_id"] == practice_id]
