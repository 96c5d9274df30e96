import Foundation
import OCI

extension ImageTransfer {
    /// What `reference` names, asked of the sources a pull would use, in the same order: its mirrors, then the
    /// registry itself. A source without it (404) or a mirror that cannot be reached passes the question on.
    /// - Returns: the descriptor of the manifest or index, or nil when no source has it.
    /// - Throws: `RegistryError` when the registry itself cannot answer (unreachable, unauthorized, failing).
    public func find(_ reference: ImageReference) async throws -> Descriptor? {
        let clients = try pullClients(for: reference.registry)
        for (index, client) in clients.enumerated() {
            do {
                return try await client.resolve(
                    repository: reference.repository, reference: reference.manifestReference)
            } catch let error as RegistryError {
                if case .http(_, _, 404, _, _, _) = error { continue }
                if case .transport = error, index + 1 < clients.count { continue }
                throw error
            }
        }
        return nil
    }
}
