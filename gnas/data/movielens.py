"""MovieLens folders (ratings.csv, movies.csv, optional tags.csv), e.g. ml-latest-small.

Every rating is an interaction (or those >= ``dataset.min_rating``). All movies of movies.csv are
items, rated or not, so that text-only (cold) movies can be recommended from their text.

The item text is what a movie has before anyone rates it (title, genres). User tags are kept apart,
one row per (user, movie, tag): a tag belongs to a (user, movie) pair, and most of those pairs are
ratings that a split may hold out, so only the text builder, which knows the split, may join them
(``dataset.text.tags``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gnas.data.raw import ITEM, TAG, TIMESTAMP, USER, RawInteractions
from gnas.data.tables import (
    id_values,
    min_rating_filter,
    numeric_values,
    read_table,
    require_columns,
    timestamp_values,
)
from gnas.errors import GnasError
from gnas.spec import DatasetSpec

NO_GENRES = "(no genres listed)"


def read_movielens(folder: Path, spec: DatasetSpec) -> RawInteractions:
    """Ratings as interactions with timestamps; item text has columns title and genres; the user tags."""
    if not folder.is_dir():
        raise GnasError(f"{folder}: no such folder (dataset.path; a MovieLens folder with ratings.csv)")
    ratings_path = folder / "ratings.csv"
    ratings = read_table(ratings_path, "movielens format")
    require_columns(
        ratings, ratings_path, dict.fromkeys(("userId", "movieId", "rating", "timestamp"), "movielens format")
    )
    rating = numeric_values(ratings, "rating", ratings_path)
    frame = pd.DataFrame(
        {
            USER: id_values(ratings, "userId", ratings_path),
            ITEM: id_values(ratings, "movieId", ratings_path),
            TIMESTAMP: timestamp_values(ratings, "timestamp", ratings_path),
        }
    )
    if frame.empty:
        raise GnasError(f"{ratings_path}: no ratings in the file")
    if spec.min_rating is not None:
        frame = min_rating_filter(frame, rating, spec.min_rating, ratings_path)
    text = _movie_text(folder)
    tags = _tags(folder / "tags.csv")
    return RawInteractions(frame=frame, item_text=text, all_item_ids=text.index.to_numpy(), tags=tags)


def _movie_text(folder: Path) -> pd.DataFrame:
    """title and genres ("A, B"; "" for "(no genres listed)") per movie id."""
    movies_path = folder / "movies.csv"
    movies = read_table(movies_path, "movielens format")
    require_columns(movies, movies_path, dict.fromkeys(("movieId", "title", "genres"), "movielens format"))
    ids = id_values(movies, "movieId", movies_path)
    genres = (
        movies["genres"].fillna("").astype(str).replace(NO_GENRES, "").str.replace("|", ", ", regex=False)
    )
    text = pd.DataFrame(
        {"title": movies["title"].fillna("").astype(str).to_numpy(), "genres": genres.to_numpy()},
        index=pd.Index(ids.to_numpy(), name="item"),
    )
    return text[~text.index.duplicated(keep="first")]


def _tags(path: Path) -> pd.DataFrame | None:
    """One row per distinct (user, movie, tag), columns user, item, tag, in file order; None without
    tags.csv."""
    if not path.exists():
        return None
    tags = read_table(path, "movielens format")
    require_columns(tags, path, dict.fromkeys(("userId", "movieId", "tag"), "movielens format"))
    tags = tags[["userId", "movieId", "tag"]].dropna()
    frame = pd.DataFrame(
        {
            USER: id_values(tags, "userId", path).to_numpy(),
            ITEM: id_values(tags, "movieId", path).to_numpy(),
            TAG: tags["tag"].astype(str).str.strip().to_numpy(),
        }
    )
    return frame[frame[TAG] != ""].drop_duplicates().reset_index(drop=True)
