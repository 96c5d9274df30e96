from typing import List, Optional

from cog import BaseModel, BasePredictor, File, Path


class Output(BaseModel):
    text: str
    score: float
    count: int
    ok: bool
    image: Path
    attachment: File
    frames: List[Path]
    tokens: list[int]
    caption: Optional[str]
    mask: Path | None
    labels: Optional[List[str]] = None
    image_2x: Optional[Path] = None


class Predictor(BasePredictor):
    def predict(self, prompt: str) -> Output:
        return Output(text=prompt)
