from __future__ import annotations

from typing import Optional

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def setup(self) -> None:
        pass

    def predict(
        self,
        image: Path = Input(description="Image"),
        prompts: list[str] = Input(default=["a"]),
        mask: Path | None = None,
        strength: Optional[float] = Input(default=0.8, ge=0, le=1),
        seed: int = Input(default=None),
    ) -> list[Path]:
        return [image]
