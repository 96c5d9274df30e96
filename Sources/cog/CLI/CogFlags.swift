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
