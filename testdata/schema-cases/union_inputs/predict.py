from typing import Optional, Union

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        a: int | str = Input(description="int or str"),
        b: Union[int, float] = Input(default=3),
        c: Union[float, str] = 2,
        d: Optional[Union[int, bool]] = None,
        e: list[int] | str = Input(default=[1, 2]),
        f: int | dict = Input(default={"k": "v"}),
    ) -> str:
        return "ok"
