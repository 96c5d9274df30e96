import CogEngine
import Foundation
import OCI
import Registry

/// Prints or writes a prediction's output as Cog does: strings raw, files (data URLs) to disk, the rest as JSON; with
/// `-o`, text and JSON go to that file too.
/// The reply was streamed to a file (`PredictionBody`): long strings go from there to stdout or to their file
/// in pieces, whatever their size.
enum PredictionOutput {
    static func handle(_ body: PredictionBody, status: Int, outputPath: String?) throws {
        let object = try prediction(body, status: status)
        try checkSucceeded(object, body: body, status: status)
        try write(object["output"] ?? NSNull(), body: body, outputPath: outputPath, index: nil)
    }

    /// `--json` mode with `-o`: the whole prediction (status, output, logs, metrics) written as JSON to `path`; a
    /// prediction that did not succeed is an error after the file is written.
    static func writePrediction(_ body: PredictionBody, status: Int, to path: String) throws {
        let object = try prediction(body, status: status)
        try FileSystem.writeAtomically(to: path) { temporary in
            let file = try FileStream.create(temporary)
            try body.writeJSON(object, pretty: true) { try file.write($0) }
            try file.write(Data("\n".utf8))
            try file.close()
        }
        written(path)
        try checkSucceeded(object, body: body, status: status)
    }

    /// `--json` mode without `-o`: the whole prediction printed to standard output, as Cog prints it; a prediction
    /// that did not succeed is an error after it is printed.
    static func printPrediction(_ body: PredictionBody, status: Int) throws {
        let object = try prediction(body, status: status)
        try body.writeJSON(object, pretty: true) { FileHandle.standardOutput.write(Data($0)) }
        FileHandle.standardOutput.write(Data("\n".utf8))
        try checkSucceeded(object, body: body, status: status)
    }

    /// The prediction object the runtime answered with.
    static func prediction(_ body: PredictionBody, status: Int) throws -> [String: Any] {
        guard let object = body.object as? [String: Any] else {
            throw PredictError.notAPrediction(status: status, body: body.summary(body.object))
        }
        return object
    }

    /// Throws the runtime's own words when the prediction did not succeed: the refused inputs of a 422 one per
    /// line, else its error (never Swift's rendering of a dictionary).
    static func checkSucceeded(_ object: [String: Any], body: PredictionBody, status: Int) throws {
        if status == 422, let details = object["detail"] as? [[String: Any]] {
            throw PredictError.refusedInputs(
                details.map { detail in
                    let location =
                        (detail["loc"] as? [Any])?.dropFirst(2).map { "\($0)" }.joined(separator: ".") ?? "input"
                    return (location.isEmpty ? "input" : location, body.summary(detail["msg"] ?? "invalid"))
                })
        }
        let state = object["status"] as? String
        guard (200..<300).contains(status), state == nil || state == "succeeded" else {
            let detail = object["error"] ?? object["detail"]
            throw PredictError.predictionFailed(
                httpStatus: status, status: state, detail: detail.map { body.summary($0) } ?? "HTTP \(status)")
        }
    }

    /// Writes or prints one output as Cog's `cog predict` does: a file (data URL) decoded to `-o` or `output`, its
    /// extension from the media type when the name has none (`output.bmp`; the items of a list `output.0.png`, …);
    /// text raw and anything else as JSON, to standard output or to `-o`; "No output generated" for none.
    static func write(_ output: Any, body: PredictionBody, outputPath: String?, index: Int?) throws {
        let destination =
            index.map { Self.itemDestination(outputPath ?? "output", index: $0) } ?? outputPath ?? "output"
        if output is NSNull, index == nil {
            FileHandle.standardError.write(Data("warning: No output generated\n".utf8))
        } else if let spill = body.spilled(output) {
            if (try spill.prefix(5)) == "data:" {
                let temporary = "\(destination).\(getpid()).partial"
                defer { FileSystem.remove(temporary) }
                let mime = try spill.writeDataURL(to: temporary)
                let path = Self.filePath(destination, mediaType: mime)
                try FileSystem.rename(temporary, to: path)
                written(path)
            } else if let outputPath, index == nil {
                try spill.write(to: outputPath)
                written(outputPath)
            } else {
                try spill.forEachChunk { FileHandle.standardOutput.write(Data($0)) }
                FileHandle.standardOutput.write(Data("\n".utf8))
            }
        } else if let text = output as? String {
            if text.hasPrefix("data:"), let comma = text.firstIndex(of: ","),
                let data = Data(base64Encoded: String(text[text.index(after: comma)...]))
            {
                let path = Self.filePath(
                    destination, mediaType: String(text[text.index(text.startIndex, offsetBy: 5)..<comma]))
                try data.write(to: URL(fileURLWithPath: path))
                written(path)
            } else if let outputPath, index == nil {
                try Data(text.utf8).write(to: URL(fileURLWithPath: outputPath))
                written(outputPath)
            } else {
                print(text)
            }
        } else if let list = output as? [Any], !list.isEmpty,
            list.allSatisfy({ item in
                body.spilled(item).map { (try? $0.prefix(5)) == "data:" }
                    ?? ((item as? String)?.hasPrefix("data:") == true)
            })
        {
            for (i, item) in list.enumerated() { try write(item, body: body, outputPath: outputPath, index: i) }
        } else if let outputPath, index == nil {
            let file = try FileStream.create(outputPath)
            try body.writeJSON(output, pretty: true) { try file.write($0) }
            try file.close()
            written(outputPath)
        } else {
            try body.writeJSON(output, pretty: true) { FileHandle.standardOutput.write(Data($0)) }
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
    }

    /// Where item `index` of a list of files goes, as Cog names it: `output` → `output.0`, `out.png` → `out.0.png`.
    static func itemDestination(_ destination: String, index: Int) -> String {
        let (stem, ext) = splitExtension(destination)
        return "\(stem).\(index)\(ext)"
    }

    /// The file a data URL of `mediaType` is written to at `destination`: the name as it is when it has an
    /// extension (one that is a number, `output.0`, does not count), else with the media type's (`output.bmp`).
    static func filePath(_ destination: String, mediaType: String) -> String {
        let (_, ext) = splitExtension(destination)
        guard ext.isEmpty || Int(ext.dropFirst()) != nil else { return destination }
        return destination + MediaTypes.fileExtension(for: String(mediaType.split(separator: ";").first ?? ""))
    }

    /// `dir/name.ext` → (`dir/name`, `.ext`); a name without a dot in its last component → (name, "").
    private static func splitExtension(_ path: String) -> (String, String) {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return (path, "") }
        let ext = String(name[dot...])
        return (String(path.dropLast(ext.count)), ext)
    }

    /// Says where an output went, in Cog's words.
    static func written(_ path: String) {
        FileHandle.standardError.write(Data("Written output to: \(path)\n".utf8))
    }
}
