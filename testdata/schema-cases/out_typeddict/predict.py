from typing import List, NotRequired, Optional, Required, TypedDict

from cog import BasePredictor, Path


class Base(TypedDict, total=False):
    tags: List[str]
    label: Required[str]


class Output(Base):
    """A result."""

    name: str
    count: NotRequired[int]
    score: Optional[float]
    image: Path


class Predictor(BasePredictor):
    def predict(self) -> Output:
        return {"name": "alice", "count": 3, "label": "x", "score": None, "image": Path("a.png")}
