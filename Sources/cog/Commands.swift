import ArgumentParser

struct BuildCommand: NotYetBuilt {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Build an image from cog.yaml.")
    static let plannedIn = "the build pipeline lands with the runner and registry client"
    @Option(name: .shortAndLong, help: "The cog.yaml to read.") var file = "cog.yaml"
    @Option(name: .shortAndLong, help: "Name of the image to build.") var tag: String?
    @Option(name: .customLong("oci-out"), help: "Write the image as an OCI layout to this directory.") var ociOut: String?
}

struct PushCommand: NotYetBuilt {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Build and push an image to a registry.")
    static let plannedIn = "the registry client is in progress"
    @Argument(help: "Image to push to.") var image: String?
}

struct PredictCommand: NotYetBuilt {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Run a prediction.")
    static let plannedIn = "predictions need the runner"
    @Argument(help: "Image to run.") var image: String?
    @Option(name: .shortAndLong, help: "Inputs, name=value or name=@file.") var input: [String] = []
}

struct RunCommand: NotYetBuilt {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a command inside the image, with the project at /src.")
    static let plannedIn = "commands in the image need the runner"
    @Argument(parsing: .captureForPassthrough) var command: [String] = []
}

struct ServeCommand: NotYetBuilt {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the model's HTTP API.")
    static let plannedIn = "serving needs the runner"
}

struct LoginCommand: NotYetBuilt {
    static let configuration = CommandConfiguration(commandName: "login", abstract: "Log in to a registry (r8.im by default).")
    static let plannedIn = "the registry client is in progress"
    @Argument(help: "Registry host.") var registry: String?
}
