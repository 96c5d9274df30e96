from cog import BaseRunner, Input


class Runner(BaseRunner):
    def setup(self, weights=None):
        pass

    def run(self, prompt: str = Input(description="Prompt"), n: int = 3) -> list[str]:
        return [prompt] * n
