from cog import BasePredictor, Input

SCHEDULERS = ["DDIM", "K_EULER", "DPMSolverMultistep"]
SIZES = (512, 768, 1024)


class Predictor(BasePredictor):
    def predict(
        self,
        scheduler: str = Input(description="Scheduler", choices=SCHEDULERS, default="K_EULER"),
        width: int = Input(description="Width", choices=[512, 768, 1024], default=768),
        height: int = Input(choices=SIZES, default=512),
        mode: str = Input(choices=("fast", "slow")),
        maybe: str = Input(choices=["a", "b"], default=None),
        fmt: list[str] = Input(choices=["png", "jpg"], default=["png"]),
    ) -> str:
        return scheduler
