import CogEngine
import Foundation
import OCI
import Registry

/// Prints or writes a prediction's output as Cog does: strings raw, files (data URLs) to disk, the rest as JSON.
enum PredictionOutput {
    /// The prediction object the runtime answered with.
    static func prediction(_ response: HTTPResponse) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any] else {
            throw PredictError.notAPrediction(
                status: response.status, body: String(decoding: response.body.prefix(2000), as: UTF8.self))
        }
        return object
    }

    static func handle(_ response: HTTPResponse, outputPath: String?) throws {
        let object = try prediction(response)
        if response.status == 422, let details = object["detail"] as? [[String: Any]] {
            throw PredictError.refusedInputs(
                details.map { detail in
                    let location =
                        (detail["loc"] as? [Any])?.dropFirst(2).map { "\($0)" }.joined(separator: ".") ?? "input"
                    return (location, detail["msg"] as? String ?? "invalid")
                })
        }
        let status = object["status"] as? String
        guard response.isSuccess, status == nil || status == "succeeded" else {
            let detail =
                object["error"].map { "\($0)" } ?? object["detail"].map { "\($0)" }
                ?? String(decoding: response.body.prefix(2000), as: UTF8.self)
            throw PredictError.predictionFailed(httpStatus: response.status, status: status, detail: detail)
        }
        try write(object["output"] ?? NSNull(), outputPath: outputPath, index: nil)
    }

    /// `--json` mode: the whole prediction (status, output, logs, metrics) written as JSON to `path`; a prediction
    /// that did not succeed is an error after the file is written.
    static func writePrediction(_ response: HTTPResponse, to path: String) throws {
        let object = try prediction(response)
        let data = try JSONSerialization.data(
            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try FileSystem.writeAtomically(data + Data("\n".utf8), to: path)
        FileHandle.standardError.write(Data("written to \(path)\n".utf8))
        let status = object["status"] as? String
        guard response.isSuccess, status == nil || status == "succeeded" else {
            let detail =
                object["error"].map { "\($0)" } ?? object["detail"].map { "\($0)" } ?? "HTTP \(response.status)"
            throw PredictError.predictionFailed(httpStatus: response.status, status: status, detail: detail)
        }
    }

    static func write(_ output: Any, outputPath: String?, index: Int?) throws {
        if let text = output as? String {
            if text.hasPrefix("data:"), let comma = text.firstIndex(of: ","),
                let data = Data(base64Encoded: String(text[text.index(after: comma)...]))
            {
                let mime =
                    String(text[text.index(text.startIndex, offsetBy: 5)..<comma]).split(separator: ";").first.map(
                        String.init) ?? ""
                let ext =
                    [
                        "image/png": ".png", "image/jpeg": ".jpg", "audio/wav": ".wav", "video/mp4": ".mp4",
                        "text/plain": ".txt",
                    ][mime] ?? ""
                let base = outputPath ?? "output"
                let path = index.map { "\(base).\($0)\(ext)" } ?? (outputPath ?? "output\(ext)")
                try data.write(to: URL(fileURLWithPath: path))
                FileHandle.standardError.write(Data("written to \(path)\n".utf8))
            } else {
                print(text)
            }
        } else if let list = output as? [Any], list.allSatisfy({ ($0 as? String)?.hasPrefix("data:") == true }),
            !list.isEmpty
        {
            for (i, item) in list.enumerated() { try write(item, outputPath: outputPath, index: i) }
        } else {
            let data = try JSONSerialization.data(
                withJSONObject: output, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
