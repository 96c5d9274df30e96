import ArgumentParser




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
