import Foundation

/// The trainer's schema under Cog's training names (`TrainingInput`, `TrainingOutput`, `TrainingRequest`,
/// `TrainingResponse`, `/trainings`), merged into the predictor's as Cog's `schema.MergeSchemas` does: what the
/// predictor's schema has wins. The runtime reads `TrainingInput` to pass a training its inputs.
enum TrainingSchema {
    /// Component renames, predictor name → training name.
    static let components = [
        "Input": "TrainingInput", "Output": "TrainingOutput", "PredictionRequest": "TrainingRequest",
        "PredictionResponse": "TrainingResponse",
    ]

    /// The merged document as canonical JSON (sorted keys, slashes unescaped).
    /// - Throws: `BuildError.schemaNotJSON` when either schema is not a JSON object.
    static func merge(predict: String, train: String) throws -> String {
        var renamed = train
        for (from, to) in components {
            renamed = renamed.replacingOccurrences(
                of: "\"#/components/schemas/\(from)\"", with: "\"#/components/schemas/\(to)\"")
        }
        guard var document = object(predict) else { throw BuildError.schemaNotJSON(output: predict) }
        guard let training = object(renamed) else { throw BuildError.schemaNotJSON(output: train) }
        var schemas = ((document["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:]
        for (name, value) in ((training["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:] {
            let key = components[name] ?? name
            guard schemas[key] == nil else { continue }
            var schema = value
            if components[name] != nil, var object = value as? [String: Any] {
                object["title"] = key
                schema = object
            }
            schemas[key] = schema
        }
        var paths = (document["paths"] as? [String: Any]) ?? [:]
        let trainingPaths = (training["paths"] as? [String: Any]) ?? [:]
        if paths["/trainings"] == nil,
            var post = (trainingPaths["/predictions"] as? [String: Any])?["post"] as? [String: Any]
        {
            post["summary"] = "Train"
            post["description"] = "Run a single training on the model"
            post["operationId"] = "train_trainings_post"
            post["x-cog-streaming"] = nil  // as in Cog: trainings never stream
            paths["/trainings"] = ["post": post]
        }
        let cancel = "/trainings/{training_id}/cancel"
        if paths[cancel] == nil,
            var post = (trainingPaths["/predictions/{prediction_id}/cancel"] as? [String: Any])?["post"]
                as? [String: Any]
        {
            post["operationId"] = "cancel_trainings__training_id__cancel_post"
            post["parameters"] = [
                [
                    "required": true, "schema": ["title": "Training Id", "type": "string"], "name": "training_id",
                    "in": "path",
                ] as [String: Any]
            ]
            paths[cancel] = ["post": post]
        }
        var components = (document["components"] as? [String: Any]) ?? [:]
        components["schemas"] = schemas
        document["components"] = components
        document["paths"] = paths
        let data = try JSONSerialization.data(
            withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private static func object(_ json: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
    }
}
