import Registry

/// What Cog adds for Replicate's registry, r8.im: the model's page after a push, and a 404 explained (a push to a
/// model not created on replicate.com yet).
enum Replicate {
    static let registry = "r8.im"

    /// `https://replicate.com/OWNER/NAME` for an r8.im reference (tag and digest left out), else nil.
    static func modelPage(_ reference: ImageReference) -> String? {
        reference.registry == registry ? "https://replicate.com/\(reference.repository)" : nil
    }

    /// The error a push to `reference` failed with, or, for r8.im's "not found", what to do about it.
    static func explain(_ error: Error, pushing reference: ImageReference) -> Error {
        guard reference.registry == registry, isNotFound(error) else { return error }
        return ModelMissing(image: "\(reference.registry)/\(reference.repository)", cause: error)
    }

    /// A 404, or the distribution spec's NAME_UNKNOWN in any reply.
    static func isNotFound(_ error: Error) -> Bool {
        switch error as? RegistryError {
        case .http(_, _, let status, let errors, _, _)?:
            return status == 404 || errors.contains { $0.code == "NAME_UNKNOWN" }
        case .blobRejected(_, _, let errors, _)?:
            return errors.contains { $0.code == "NAME_UNKNOWN" }
        default:
            return false
        }
    }

    struct ModelMissing: Error, CustomStringConvertible {
        let image: String
        let cause: Error

        var description: String {
            "Unable to find existing Replicate model for \(image): the model does not exist yet; create it first at https://replicate.com/create (if it exists, you may be logged in as someone other than its owner: run cog login as yourself, not with sudo). The registry said: \(cause)"
        }
    }
}
