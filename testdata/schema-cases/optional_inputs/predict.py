from typing import Optional, Union

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        a: Optional[str],
        b: str | None = None,
        c: Optional[int] = Input(description="c", default=None),
        d: Optional[float] = Input(default=1.5),
        e: Union[str, None] = Input(),
        f: str = Input(default=None),
        g: str = None,
        h: int | None = 3,
    ) -> str:
        return "ok"
