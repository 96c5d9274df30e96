/// Cog's boolean flags as its command line (Go's pflag) takes them: bare, or with `=true` / `=false` (and the other
/// spellings of Go's `strconv.ParseBool`). The command line is rewritten into ArgumentParser's forms before
/// parsing: a switch given `=true` becomes bare and one given `=false` is dropped; `--use-cog-base-image` (an option
/// here, to keep `--use-cog-base-image false` working) given bare becomes `--use-cog-base-image=true`.
enum CogFlags {
    /// Switches that default to false.
    static let switches: Set<String> = ["--no-cache", "--separate-weights", "--token-stdin"]
    /// Boolean options that take a value here.
    static let valued: Set<String> = ["--use-cog-base-image"]
    /// Commands whose arguments after the first operand belong to the command they run.
    static let passthrough: Set<String> = ["exec", "run"]

    /// What starts a prediction's arguments: `cog run` followed by one of these (or by an image and then one of
    /// them, or by nothing) is Cog ≥ 0.20's `cog run`, a prediction; anything else is a command to run, as the
    /// seeds' `cog run CMD`.
    static let predictionFlags: Set<String> = ["-i", "--input", "--json", "-o", "--output"]

    /// `cog run …` routed to `predict` when its arguments are a prediction's.
    static func routed(_ arguments: [String]) -> [String] {
        guard let index = arguments.firstIndex(where: { !$0.hasPrefix("-") }), arguments[index] == "run" else {
            return arguments
        }
        let rest = Array(arguments[(index + 1)...])
        let isFlag = { (argument: String) in
            predictionFlags.contains(argument) || predictionFlags.contains { argument.hasPrefix("\($0)=") }
        }
        let predicts =
            rest.isEmpty || isFlag(rest[0]) || (rest.count > 1 && !rest[0].hasPrefix("-") && isFlag(rest[1]))
        guard predicts else { return arguments }
        var routed = arguments
        routed[index] = "predict"
        return routed
    }

    static func normalized(_ arguments: [String]) -> [String] {
        var result: [String] = []
        let commandIndex = arguments.firstIndex { !$0.hasPrefix("-") }
        let command = commandIndex.map { arguments[$0] }
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let isOperand = !argument.hasPrefix("-") && index != commandIndex
            if argument == "--" || (isOperand && passthrough.contains(command ?? "")) {
                result += arguments[index...]
                break
            }
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2, switches.contains(parts[0]), let value = boolean(parts[1]) {
                if value { result.append(parts[0]) }
            } else if parts.count == 2, valued.contains(parts[0]), let value = boolean(parts[1]) {
                result.append("\(parts[0])=\(value)")
            } else if valued.contains(argument),
                index + 1 >= arguments.count || boolean(arguments[index + 1]) == nil
            {
                result.append("\(argument)=true")
            } else {
                result.append(argument)
            }
            index += 1
        }
        return result
    }

    /// Go's `strconv.ParseBool`.
    static func boolean(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }
}
