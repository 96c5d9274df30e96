from typing import List, Optional

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(
        self,
        words: List[str] = Input(description="Words", default=["a", "b"]),
        counts: list[int] = Input(default=[1, 2, 3]),
        images: List[Path] = Input(description="Images"),
        weights: list[float] = Input(default=(1, 0.5)),
        tags: Optional[List[str]] = Input(default=None),
        extra: list[str] | None = None,
        anything: list = Input(default=[1, "x"]),
    ) -> List[Path]:
        return images
