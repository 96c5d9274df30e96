/// The files `cog init` writes: a commented cog.yaml, a runner, and a .dockerignore (after Cog's templates,
/// `pkg/cli/init-templates/base`: Cog ≥ 0.20's `run: "run.py:Runner"` with `BaseRunner`).
public enum StarterProject {
    /// File name and contents, in the order they are written.
    public static let files: [(name: String, contents: String)] = [
        ("cog.yaml", cogYAML), ("run.py", runPy), (".dockerignore", dockerignore),
    ]

    static let cogYAML = """
        # Configuration for Cog ⚙️
        # Reference: https://github.com/replicate/cog/blob/main/docs/yaml.md

        build:
          # set to true if your model requires a GPU
          gpu: false

          # a list of ubuntu apt packages to install
          # system_packages:
          #   - "libgl1"
          #   - "libglib2.0-0"

          # python version in the form '3.12' or '3.12.4' (3.8 to 3.13)
          python_version: "\(ConfigRules.defaultPython)"

          # a list of packages in the format <package-name>==<version>
          # (or python_requirements: requirements.txt, a pip requirements file)
          # python_packages:
          #   - "numpy==1.26.4"
          #   - "torch==2.5.1"

          # commands run after the environment is set up
          # run:
          #   - "echo env is ready!"
          #   - "echo another command if needed"

        # run.py defines how runs are handled by your model
        run: "run.py:Runner"

        """

    static let runPy = """
        # Run interface for Cog ⚙️
        # https://cog.run/python

        from cog import BaseRunner, Input


        class Runner(BaseRunner):
            def setup(self) -> None:
                \"\"\"Load the model into memory to make running multiple requests efficient\"\"\"
                # self.model = torch.load("./weights.pth")

            def run(
                self,
                text: str = Input(description="Text to process", default="hello"),
                repeat: int = Input(description="How many times to repeat it", ge=1, le=10, default=1),
            ) -> str:
                \"\"\"Run the model on a single input\"\"\"
                # output = self.model(text)
                return " ".join([text] * repeat)

        """

    static let dockerignore = """
        # The .dockerignore file excludes files from the container build process.
        #
        # https://docs.docker.com/engine/reference/builder/#dockerignore-file

        # Exclude Git files
        **/.git
        **/.github
        **/.gitignore

        # Exclude Python tooling
        .python-version

        # Exclude Python cache files
        __pycache__
        .mypy_cache
        .pytest_cache
        .ruff_cache

        # Exclude Python virtual environment
        /venv

        """
}
